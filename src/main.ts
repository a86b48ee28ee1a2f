// The process entry point. Libraries read NODE_ENV as they load (graphql-js, for one, runs extra
// development checks unless it is "production": 8 % of the CPU under credit load), so its default, the
// same as the configuration's, is set before any of them is imported.
process.env.NODE_ENV ??= 'production';
await import('./gateway-main.js');

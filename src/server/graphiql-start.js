// Starts GraphiQL (globals from the UMD builds loaded before this file) against the page's own endpoint.
/* global React, ReactDOM, GraphiQL */
const config = JSON.parse(document.getElementById('graphiql-config').textContent);
const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
const [first] = config.tabs;
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultTabs: config.tabs,
    // GraphiQL fills the first tab's variables editor from this prop, not from defaultTabs.
    variables: first ? first.variables : undefined,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  }),
);

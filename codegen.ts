import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed operations for the committed schema. CODEGEN_OUT lets the staleness check generate elsewhere.
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['test/operations/**/*.graphql', 'examples/**/*.graphql'],
  generates: {
    [process.env.CODEGEN_OUT ?? 'test/generated/graphql.ts']: {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSONObject: 'Record<string, unknown>' },
      },
    },
  },
  silent: true,
};
export default config;

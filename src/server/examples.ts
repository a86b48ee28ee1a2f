import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One example operation of `examples/`: its GraphQL document and the variables it runs with. */
export interface Example {
  readonly name: string;
  readonly query: string;
  /** `<name>.variables.json` beside the document, as text ({} when the operation needs none). */
  readonly variables: string;
}

/** The examples of a folder, in name order: every `*.graphql` with its `*.variables.json`. */
export function readExamples(dir: string): Example[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.graphql'.length);
      const variablesFile = path.join(dir, `${name}.variables.json`);
      return {
        name,
        query: readFileSync(path.join(dir, file), 'utf8'),
        variables: existsSync(variablesFile) ? readFileSync(variablesFile, 'utf8') : '{}',
      };
    });
}

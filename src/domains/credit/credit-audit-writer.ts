// Worker-thread entry: the one connection that writes credit decisions to a SQLite file (see CreditAuditLog).
import { parentPort, workerData } from 'node:worker_threads';
import { decisionRows } from './credit-audit-columns.js';
import {
  auditRowWriter,
  openAuditDatabase,
  type AuditWriterRequest,
  type AuditWriterResponse,
} from './credit-audit.js';

const db = openAuditDatabase((workerData as { file: string }).file);
const write = auditRowWriter(db);
const port = parentPort!;

port.on('message', (request: AuditWriterRequest) => {
  const reply = (response: AuditWriterResponse) => port.postMessage(response);
  if ('close' in request) {
    db.close();
    reply({ id: request.id });
    port.close();
    return;
  }
  try {
    // The inputs' hashes and the rows are made here, off the event loop.
    write(request.columns ? decisionRows(request.columns) : []);
    reply({ id: request.id });
  } catch (error) {
    reply({ id: request.id, error: (error as Error).message });
  }
});

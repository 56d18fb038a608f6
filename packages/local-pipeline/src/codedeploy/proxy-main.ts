/**
 * The proxy as a process: `node proxy-main.js <port> [<slot> <targetPort>]`.
 * The rehearsal starts it detached so it keeps serving after the command ends.
 */
import { createProxy } from './proxy';

const [portArg, slot, targetPort] = process.argv.slice(2);
const server = createProxy(slot && targetPort ? { slot, port: Number(targetPort) } : undefined);
server.keepAliveTimeout = 65_000;
server.listen(Number(portArg), '127.0.0.1', () => {
  console.log(`proxy listening on http://127.0.0.1:${portArg} (pid ${process.pid})`);
});
server.on('error', (error) => {
  console.error(`proxy could not listen on port ${portArg}: ${error.message}`);
  process.exit(1);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

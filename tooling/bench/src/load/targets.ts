/**
 * The baselines the service is measured against, each a whole process so it
 * is measured the way the service runs: `node targets.js <raw|express> <port>`.
 * Both answer GET /health with a small JSON body, as the service does; bare
 * Express also answers GET /api/greeting?name=… like the service's example
 * route, minus its input validation. Bare Express is also the reload section's
 * baseline, a pm2 cluster worker with the drain most tutorials show: on
 * SIGINT, `server.close()`, which closes idle keep-alive sockets at once, so a
 * client that was just sending its next request on one of them sees a reset.
 */
import http from 'node:http';

import express from 'express';

const [variant, portText] = process.argv.slice(2);
const port = Number(portText);
const body = () => ({ status: 'ok', service: 'bench', uptimeSeconds: Math.round(process.uptime()) });

let server: http.Server;
if (variant === 'raw') {
  server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      const text = JSON.stringify(body());
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    res.writeHead(404).end();
  });
} else if (variant === 'express') {
  const app = express();
  app.get('/health', (_req, res) => {
    res.json(body());
  });
  app.get('/api/greeting', (req, res) => {
    res.json({ greeting: `Hello, ${typeof req.query['name'] === 'string' ? req.query['name'] : 'you'}!` });
  });
  server = http.createServer(app);
} else {
  console.error(`usage: targets.js <raw|express> <port>; got variant "${variant ?? ''}"`);
  process.exit(2);
}

server.keepAliveTimeout = 65_000;
// 'ready' is what pm2's wait_ready waits for; outside pm2 there is no IPC channel.
server.listen(port, '127.0.0.1', () => process.send?.('ready'));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));

/**
 * The reload section's baseline: the drain most tutorials show. pm2 sends
 * SIGINT; the process calls `server.close()` and exits when it returns. Node
 * then closes idle keep-alive sockets at once, and a client that was just
 * sending its next request on one of them sees a reset.
 */
import express from 'express';

const app = express();
app.get('/health', (_req, res) => {
  res.json({ status: 'ok', service: 'naive' });
});
app.get('/api/greeting', (req, res) => {
  res.json({ greeting: `Hello, ${typeof req.query.name === "string" ? req.query.name : 'you'}!` });
});

const server = app.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));
server.keepAliveTimeout = 65_000;
process.on('SIGINT', () => server.close(() => process.exit(0)));

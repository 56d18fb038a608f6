import http from 'node:http';

/** The path prefix the rehearsal uses to steer the proxy; everything else is forwarded. */
export const CONTROL_PREFIX = '/__rehearsal/';

export interface ProxyTarget {
  readonly slot: string;
  readonly port: number;
}

export interface ProxyStatus {
  readonly target: ProxyTarget | undefined;
  /** Requests being forwarded right now, per target port. */
  readonly inFlight: Readonly<Record<string, number>>;
}

/** Headers that describe one connection, not the message: never copied across the proxy. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  return out;
}

/**
 * The local stand-in for the ALB: forwards every request to the active slot.
 *
 * Like an ALB it keeps its own keep-alive connections to each target and
 * closes idle ones (30 s) well before the service would (65 s), and a switch
 * sends new requests to the new target while requests already forwarded to the
 * old one finish there. `PUT /__rehearsal/target` switches; `GET
 * /__rehearsal/status` reports the target and in-flight counts, so the
 * rehearsal can wait for the old slot to drain before stopping it.
 */
export function createProxy(initial?: ProxyTarget): http.Server {
  let target = initial;
  const agents = new Map<number, http.Agent>();
  const inFlight: Record<string, number> = {};
  const agentFor = (port: number) => {
    let agent = agents.get(port);
    if (!agent) {
      agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 30_000 });
      agents.set(port, agent);
    }
    return agent;
  };

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  return http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith(CONTROL_PREFIX)) {
      if (req.method === 'GET' && url === `${CONTROL_PREFIX}status`) {
        json(res, 200, { target, inFlight } satisfies ProxyStatus);
        return;
      }
      if (req.method === 'PUT' && url === `${CONTROL_PREFIX}target`) {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          const next = JSON.parse(body) as ProxyTarget;
          if (typeof next.port !== 'number' || typeof next.slot !== 'string') {
            json(res, 400, { error: 'expected {"slot": string, "port": number}' });
            return;
          }
          target = { slot: next.slot, port: next.port };
          json(res, 200, { target });
        });
        return;
      }
      json(res, 404, { error: 'unknown control request' });
      return;
    }

    const current = target;
    if (!current) {
      json(res, 503, { error: { code: 'no_deployment', message: 'Nothing is deployed yet: run npm run rehearse' } });
      return;
    }
    const key = String(current.port);
    inFlight[key] = (inFlight[key] ?? 0) + 1;
    let counted = true;
    const done = () => {
      if (counted) inFlight[key] = (inFlight[key] ?? 1) - 1;
      counted = false;
    };
    res.on('close', done);

    const headers = endToEnd(req.headers);
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
    headers['x-forwarded-proto'] = 'http';
    const upstream = http.request({ host: '127.0.0.1', port: current.port, method: req.method, path: url, headers, agent: agentFor(current.port) }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (res.headersSent) res.destroy();
      else json(res, 502, { error: { code: 'bad_gateway', message: `Slot ${current.slot} did not answer` } });
    });
    req.pipe(upstream);
  });
}

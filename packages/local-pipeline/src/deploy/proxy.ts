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

/** Control bodies are one small JSON object: anything larger is refused, not buffered. */
export const MAX_CONTROL_BODY_BYTES = 1024;

/** A target from a control body, or undefined when it is not `{"slot": <name>, "port": <1-65535>}`. */
export function parseTarget(body: string): ProxyTarget | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { slot, port } = value as Record<string, unknown>;
  if (typeof slot !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(slot)) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { slot, port };
}

/** Whether a Host header names this machine's loopback (with or without a port): the proxy steers only for local callers. */
export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && /^(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$/i.test(host);
}

/**
 * The local stand-in for the ALB: forwards every request to the active slot.
 *
 * Like an ALB it keeps its own keep-alive connections to each target and
 * closes idle ones (30 s) well before the service would (65 s), and a switch
 * sends new requests to the new target while requests already forwarded to the
 * old one finish there. `PUT /__rehearsal/target` switches; `GET
 * /__rehearsal/status` reports the target and in-flight counts, so the
 * rehearsal can wait for the old slot to drain before stopping it. Control
 * requests must name a loopback Host (a page in a browser cannot steer it
 * through DNS rebinding), their bodies are bounded, and malformed ones get a
 * 4xx: the proxy never crashes on its input.
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

  /** The rehearsal's steering requests: loopback callers only, bounded bodies, a 4xx for anything malformed. */
  const control = (req: http.IncomingMessage, res: http.ServerResponse, url: string) => {
    if (!isLoopbackHost(req.headers.host)) {
      json(res, 403, { error: 'control requests must name a loopback Host (127.0.0.1, localhost or [::1])' });
      req.resume();
      return;
    }
    if (req.method === 'GET' && url === `${CONTROL_PREFIX}status`) {
      json(res, 200, { target, inFlight } satisfies ProxyStatus);
      return;
    }
    if (req.method !== 'PUT' || url !== `${CONTROL_PREFIX}target`) {
      json(res, 404, { error: 'unknown control request' });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > MAX_CONTROL_BODY_BYTES) {
        refused = true;
        res.setHeader('connection', 'close');
        json(res, 413, { error: `control body over ${MAX_CONTROL_BODY_BYTES} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const next = parseTarget(Buffer.concat(chunks).toString('utf8'));
      if (!next) {
        json(res, 400, { error: 'expected {"slot": string, "port": whole number 1-65535}' });
        return;
      }
      target = next;
      json(res, 200, { target });
    });
    req.on('error', () => res.destroy());
  };

  return http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith(CONTROL_PREFIX)) {
      control(req, res, url);
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

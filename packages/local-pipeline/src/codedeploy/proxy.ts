import http from 'node:http';

import { z } from 'zod';

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
  /** The 5xx alarm on the newly deployed slot, while the rehearsal has one armed. */
  readonly alarm?: AlarmStatus;
}

/**
 * What `PUT /__rehearsal/alarm` arms: the stand-in for a CloudWatch alarm on
 * the target group's 5xx count, wired to CodeDeploy's automatic rollback.
 */
export interface AlarmSpec {
  /** The slot port whose answers are counted (the new slot). */
  readonly port: number;
  /** 5xx answers from `port` that put the alarm in ALARM. */
  readonly threshold: number;
  /** Where traffic goes the moment the alarm trips (the original slot). */
  readonly fallback: ProxyTarget;
}

export interface AlarmStatus extends AlarmSpec {
  /** CloudWatch's words: OK until the threshold is reached, then ALARM (it stays there). */
  readonly state: 'OK' | 'ALARM';
  /** Requests answered by `port` since the alarm was armed. */
  readonly requests: number;
  /** Of those, 5xx answers (a 502 for a slot that did not answer counts too). */
  readonly serverErrors: number;
  /** Of those, how many had been answered when the alarm tripped (the rest were already in flight). */
  readonly serverErrorsAtAlarm?: number;
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

const port = z.number().int().min(1).max(65_535);
const targetSchema = z.object({ slot: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), port });
const alarmSchema = z
  .object({ port, threshold: z.number().int().min(1).max(100_000), fallback: targetSchema })
  .refine((spec) => spec.fallback.port !== spec.port);

/** A control body's JSON read with `schema`, or undefined when it is not JSON or does not fit. */
function parseBody<T>(schema: z.ZodType<T>, body: string): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const result = schema.safeParse(value);
  return result.success ? result.data : undefined;
}

/** A target from a control body, or undefined when it is not `{"slot": <name>, "port": <1-65535>}`. */
export function parseTarget(body: string): ProxyTarget | undefined {
  return parseBody(targetSchema, body);
}

/** An alarm from a control body, or undefined when it is not `{"port": <port>, "threshold": <1-100000>, "fallback": <target>}`. */
export function parseAlarm(body: string): AlarmSpec | undefined {
  return parseBody(alarmSchema, body);
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
 * rehearsal can wait for the old slot to drain before stopping it. `PUT
 * /__rehearsal/alarm` arms a 5xx alarm on the new slot for the termination
 * wait: the answer that reaches its threshold moves traffic to the fallback
 * slot at once, before the next request is forwarded (CloudWatch and
 * CodeDeploy take minutes; here no further request reaches the bad slot);
 * `DELETE /__rehearsal/alarm` disarms it and answers its final state. Control
 * requests must name a loopback Host (a page in a browser cannot steer it
 * through DNS rebinding), their bodies are bounded, and malformed ones get a
 * 4xx: the proxy never crashes on its input.
 */
export function createProxy(initial?: ProxyTarget): http.Server {
  let target = initial;
  const agents = new Map<number, http.Agent>();
  const inFlight: Record<string, number> = {};
  let alarm: { -readonly [K in keyof AlarmStatus]: AlarmStatus[K] } | undefined;
  /** Counts one answer from `port` against the armed alarm; trips it (and moves traffic) at the threshold. */
  const observe = (port: number, status: number) => {
    if (!alarm || alarm.port !== port) return;
    alarm.requests += 1;
    if (status < 500) return;
    alarm.serverErrors += 1;
    if (alarm.state === 'OK' && alarm.serverErrors >= alarm.threshold) {
      alarm.state = 'ALARM';
      alarm.serverErrorsAtAlarm = alarm.serverErrors;
      if (target?.port === alarm.port) target = alarm.fallback;
    }
  };
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

  /** The PUT control requests: each applies a well-formed body and answers the new state, or answers undefined. */
  const puts: Readonly<Record<string, { readonly expected: string; readonly apply: (body: string) => object | undefined }>> = {
    [`${CONTROL_PREFIX}target`]: {
      expected: '{"slot": string, "port": whole number 1-65535}',
      apply: (body) => {
        const next = parseTarget(body);
        if (next) target = next;
        return next && { target };
      },
    },
    [`${CONTROL_PREFIX}alarm`]: {
      expected: '{"port": whole number 1-65535, "threshold": whole number 1-100000, "fallback": {"slot": string, "port": another port}}',
      apply: (body) => {
        const spec = parseAlarm(body);
        if (spec) alarm = { ...spec, state: 'OK', requests: 0, serverErrors: 0 };
        return spec && { alarm };
      },
    },
  };

  /** The rehearsal's steering requests: loopback callers only, bounded bodies, a 4xx for anything malformed. */
  const control = (req: http.IncomingMessage, res: http.ServerResponse, url: string) => {
    if (!isLoopbackHost(req.headers.host)) {
      json(res, 403, { error: 'control requests must name a loopback Host (127.0.0.1, localhost or [::1])' });
      req.resume();
      return;
    }
    if (req.method === 'GET' && url === `${CONTROL_PREFIX}status`) {
      json(res, 200, { target, inFlight, ...(alarm ? { alarm } : {}) } satisfies ProxyStatus);
      return;
    }
    if (req.method === 'DELETE' && url === `${CONTROL_PREFIX}alarm`) {
      json(res, 200, { alarm: alarm ?? null });
      alarm = undefined;
      req.resume();
      return;
    }
    const put = req.method === 'PUT' ? puts[url] : undefined;
    if (!put) {
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
      const answer = put.apply(Buffer.concat(chunks).toString('utf8'));
      json(res, answer === undefined ? 400 : 200, answer ?? { error: `expected ${put.expected}` });
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
      observe(current.port, answer.statusCode ?? 502);
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      observe(current.port, 502);
      json(res, 502, { error: { code: 'bad_gateway', message: `Slot ${current.slot} did not answer` } });
    });
    req.pipe(upstream);
  });
}

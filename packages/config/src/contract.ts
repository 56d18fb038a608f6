/**
 * The service contract: facts about the service that its code, its hook
 * scripts and the CDK infra must agree on. The infra imports these constants
 * instead of repeating the numbers, so they cannot drift apart.
 */

/** The service's name: log field, Parameter Store prefix, pm2 app name, stack names. */
export const SERVICE_NAME = 'conveyor-api';

/** The port the service listens on (the ALB target group forwards to it). */
export const SERVICE_PORT = 3000;

/** The health endpoint the ALB, ValidateService and the local proxy poll. */
export const HEALTH_PATH = '/health';

/**
 * The ALB's idle timeout in seconds (the infra sets the load balancer's
 * `idle_timeout.timeout_seconds` attribute from it). It is the one constant
 * the HTTP keep-alive timings below derive from.
 */
export const ALB_IDLE_TIMEOUT_SECONDS = 60;

/**
 * How long Node keeps an idle keep-alive socket open. It must exceed the ALB's
 * idle timeout: otherwise Node may close a socket at the instant the ALB reuses
 * it, and the ALB answers that request with a 502.
 */
export const KEEP_ALIVE_TIMEOUT_MS = ALB_IDLE_TIMEOUT_SECONDS * 1_000 + 5_000;

/**
 * How long Node waits for a request's headers. It must exceed the keep-alive
 * timeout, or Node can time out a socket that is legitimately idle between
 * requests (nodejs/node#27363).
 */
export const HEADERS_TIMEOUT_MS = KEEP_ALIVE_TIMEOUT_MS + 1_000;

/**
 * How long a client may take to send one whole request, headers and body,
 * counted from its first byte; past it the request is answered 408 and the
 * connection closed. Node's default (300 s) lets a client trickling a body
 * hold a socket for five minutes and a shutdown for its whole deadline. Node
 * requires it to be at least the headers timeout, and a body of at most
 * JSON_BODY_LIMIT_BYTES needs no more: one budget for the whole request.
 */
export const REQUEST_TIMEOUT_MS = HEADERS_TIMEOUT_MS;

/**
 * Default deadline for a graceful shutdown: requests still running when it
 * passes are abandoned and the process exits 1. Overridable per environment
 * with SHUTDOWN_TIMEOUT_MS; pm2's `kill_timeout` and the target group's
 * deregistration delay are derived from it.
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * How long the service may take to boot (load config, Parameter Store
 * included, and bind the port) before it must have reported ready. pm2's
 * `listen_timeout` is set from it; the Parameter Store read is abandoned in
 * time to fit inside it (see AFTER_CONFIG_RESERVE_MS in load.ts). The default
 * of the STARTUP_TIMEOUT_MS config key, which pm2 and the service both read.
 */
export const STARTUP_TIMEOUT_MS = 30_000;

/** The non-root user the service runs as on an instance. */
export const APP_USER = 'app';

/** Where CodeDeploy installs the revision on an instance (appspec.yml `files` destination). */
export const INSTALL_ROOT = `/opt/${SERVICE_NAME}`;

/** Where the service's pm2 logs go on an instance. */
export const LOG_DIR = `/var/log/${SERVICE_NAME}`;

/**
 * The per-instance environment file written by the instance's user data (infra)
 * and sourced by the hook scripts: APP_ENV, AWS_REGION, CONFIG_SSM_PATH. It is
 * how one bundle, identical everywhere, learns which environment it is in.
 */
export const INSTANCE_ENV_FILE = `/etc/${SERVICE_NAME}/instance.env`;

/**
 * APP_ENV values that mean "not on AWS": a laptop (`local`, also the value
 * when APP_ENV is unset), the local rehearsal, and the project's own tests,
 * drills and benchmarks. Anywhere else the service refuses to boot without
 * CONFIG_SSM_PATH: an instance whose env file lost its Parameter Store path
 * stops at boot, naming the key, instead of serving the laptop defaults.
 * A deploy environment must therefore not take one of these names.
 */
export const LOCAL_ENVIRONMENTS: readonly string[] = ['local', 'rehearsal', 'test', 'drill', 'bench'];

/**
 * A request the service's example route answers 200 with JSON. The acceptance
 * check (`@conveyor/acceptance`) sends it after every deployment, so it
 * proves the service's own routes are mounted, not only the health endpoint.
 * A fork that replaces the example route names one of its own here; the
 * service's tests run the acceptance check against the app and fail until it does.
 */
export const ACCEPTANCE_ROUTE = '/api/greeting?name=Ada';

/**
 * The security headers every response of the service carries, name (lower
 * case) to value. The service sets exactly these on every answer, errors
 * included; the acceptance check asks each environment for each of them,
 * with its value, through the load balancer, so a proxy or a middleware
 * change that drops or rewrites one is caught before production.
 *
 * The set is the one OWASP's REST Security Cheat Sheet gives for a JSON API,
 * not helmet's defaults, which are made for HTML pages: the service serves
 * no document, script or style, so headers that only govern how a browser
 * renders a page (Cross-Origin-Opener-Policy, Origin-Agent-Cluster,
 * Referrer-Policy, X-DNS-Prefetch-Control, X-Download-Options,
 * X-Permitted-Cross-Domain-Policies, X-XSS-Protection, a page-shaped
 * Content-Security-Policy) protect nothing here, and every byte of headers
 * is written on every response (bench/report.md measured that cost). A
 * fork that starts serving HTML adds them back here.
 * Content-Type, which the cheat sheet also lists, is Express's: every answer
 * is JSON with an explicit `application/json; charset=utf-8`.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // Answers can carry data about a user: no browser or proxy may store them.
  // A route that wants caching sets its own Cache-Control after the front door.
  'cache-control': 'no-store',
  // If a browser ever renders an answer as a document, it loads nothing
  // (default-src) and may not be framed by any page (frame-ancestors: clickjacking).
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  // HTTPS only, for a year, subdomains included (browsers ignore it over plain HTTP).
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  // The declared JSON type is final: no MIME sniffing into HTML or script.
  'x-content-type-options': 'nosniff',
  // frame-ancestors for browsers that predate it.
  'x-frame-options': 'DENY',
};

import { helmetHeaders } from '../security-headers';

describe('helmetHeaders', () => {
  it('when helmet has its default options, then its headers are captured once with their values', () => {
    const headers = helmetHeaders();

    expect(new Map(headers.set).get('X-Content-Type-Options')).toBe('nosniff');
    expect(new Map(headers.set).get('Content-Security-Policy')).toContain("default-src 'self'");
    expect(headers.removed).toEqual(['X-Powered-By']);
  });

  it('when an option makes a header depend on the request, then it refuses to compute the headers once', () => {
    const perRequest = () => helmetHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-per-request'"] } } });

    expect(perRequest).toThrow();
  });
});

// oidc_bench.mjs: node-oidc-provider as the peer of token.fcgi in
// `make bench` (bench/run.sh), configured as close to jwtgate as it allows.
//
// Usage: node oidc_bench.mjs PORT DIR COUNT
// Listens on 127.0.0.1:PORT with an in-memory adapter (a Map); writes COUNT
// authorization codes and COUNT refresh tokens, made directly through the
// provider's models, as token-request bodies to DIR/codes.txt and
// DIR/refresh.txt (the format of bench/setup), then creates DIR/ready.
//
// Like the jwtgate side: two confidential clients (client_secret_basic),
// ES256 ID tokens, ES256 JWT access tokens (RFC 9068: with
// resourceIndicators, accessTokenFormat 'jwt', so codes and refresh tokens
// name the resource and the scope "api"; without it oidc-provider issues
// opaque access tokens stored in the adapter), PKCE S256, refresh tokens
// rotated on every use.
import { writeFileSync } from 'node:fs';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const [portArg, dir, countArg] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const issuer = `http://127.0.0.1:${port}`;
const resource = `${issuer}/api`;
const secret = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const redirect = 'https://app.example/cb';
const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';	// RFC 7636 appendix B
const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const sub = 'sub-bench-alice';

// oidc-provider's own development adapter is an LRU of 1000 entries, too
// small for the codes prepared in advance: the same thing, a Map, unbounded.
const stores = new Map();
class MapAdapter {
  constructor(name) {
    if (!stores.has(name)) stores.set(name, new Map());
    this.m = stores.get(name);
    this.name = name;
  }

  async upsert(id, payload) { this.m.set(id, payload); }

  async find(id) { return this.m.get(id); }

  async findByUserCode() { return undefined; }

  async findByUid(uid) {
    for (const p of this.m.values()) if (p.uid === uid) return p;
    return undefined;
  }

  async consume(id) { const p = this.m.get(id); if (p) p.consumed = Math.floor(Date.now() / 1000); }

  async destroy(id) { this.m.delete(id); }

  async revokeByGrantId(grantId) {
    for (const [k, p] of this.m) if (p.grantId === grantId) this.m.delete(k);
  }
}

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'bench-es256', alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bench-cc', client_secret: secret, grant_types: ['client_credentials'],
      redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
    {
      client_id: 'bench-app', client_secret: secret,
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      redirect_uris: [redirect], token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  adapter: MapAdapter,
  jwks: { keys: [jwk] },
  cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
  scopes: ['openid', 'offline_access', 'profile', 'api'],
  claims: { openid: ['sub'], profile: ['name', 'email', 'email_verified'] },
  enabledJWA: { idTokenSigningAlgValues: ['ES256', 'RS256'] },
  pkce: { methods: ['S256'], required: () => true },
  rotateRefreshToken: true,
  // The codes are prepared minutes before they are used: an hour, as
  // bench/setup gives jwtgate's (oidc-provider's default is 60 s, after
  // which every exchange fails with invalid_grant).  The rest as jwtgate's
  // bench configuration: one-hour access and ID tokens, refresh tokens of
  // 30 days.
  ttl: {
    AuthorizationCode: 3600,
    AccessToken: 3600,
    ClientCredentials: 3600,
    IdToken: 3600,
    RefreshToken: 30 * 86400,
    Grant: 30 * 86400,
  },
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, name: 'Alice Liddell', email: 'alice@example.org', email_verified: false }),
  }),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});

const now = Math.floor(Date.now() / 1000);
const codes = [];
const refresh = [];
for (let i = 0; i < count; i++) {
  const grant = new provider.Grant({ accountId: sub, clientId: 'bench-app' });
  grant.addOIDCScope('openid profile offline_access');
  grant.addResourceScope(resource, 'api');
  const grantId = await grant.save();
  const code = new provider.AuthorizationCode({
    accountId: sub, clientId: 'bench-app', grantId, redirectUri: redirect,
    scope: 'openid profile offline_access api', resource,
    codeChallenge: challenge, codeChallengeMethod: 'S256', authTime: now - 10,
  });
  codes.push(`grant_type=authorization_code&code=${await code.save()}`
    + `&redirect_uri=${encodeURIComponent(redirect)}&code_verifier=${verifier}`);
  const grant2 = new provider.Grant({ accountId: sub, clientId: 'bench-app' });
  grant2.addOIDCScope('openid profile offline_access');
  grant2.addResourceScope(resource, 'api');
  const grantId2 = await grant2.save();
  const rt = new provider.RefreshToken({
    accountId: sub, client: await provider.Client.find('bench-app'), grantId: grantId2,
    scope: 'openid profile offline_access api', resource, authTime: now - 10,
    gty: 'authorization_code', rotations: 0,
  });
  refresh.push(`grant_type=refresh_token&refresh_token=${await rt.save()}`);
}
writeFileSync(`${dir}/codes.txt`, `${codes.join('\n')}\n`);
writeFileSync(`${dir}/refresh.txt`, `${refresh.join('\n')}\n`);

if (process.env.BENCH_DEBUG) {
  provider.on('grant.error', (ctx, err) => console.error(err.error_detail || err));
}
provider.listen(port, '127.0.0.1', () => {
  writeFileSync(`${dir}/ready`, '');
});

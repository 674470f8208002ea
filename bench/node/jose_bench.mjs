// jose_bench.mjs: verify and sign rates of the jose npm package on the
// tokens and keys bench/jose_export wrote.  Usage: node jose_bench.mjs DIR
// SECONDS.  Prints "ALG VERIFY_PER_S SIGN_PER_S" per algorithm.  jose's
// calls are async (WebCrypto / node:crypto underneath): each operation is
// awaited before the next, one at a time, as a server verifying one
// request's token would.
import { readFileSync } from 'node:fs';
import { importJWK, jwtVerify, SignJWT } from 'jose';

const [dir, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || '1');
const claims = JSON.parse(readFileSync(`${dir}/claims.json`, 'utf8'));

async function rate(op) {
  await op();
  const start = process.hrtime.bigint();
  let n = 0;
  let t;
  do {
    for (let i = 0; i < 8; i++) await op();
    n += 8;
    t = Number(process.hrtime.bigint() - start) / 1e9;
  } while (t < seconds);
  return n / t;
}

for (const alg of ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA']) {
  const jwk = JSON.parse(readFileSync(`${dir}/${alg}.jwk`, 'utf8'));
  const token = readFileSync(`${dir}/${alg}.token`, 'utf8').trim();
  const priv = await importJWK({ ...jwk, alg }, alg);
  const pubJwk = { ...jwk, alg };
  for (const k of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete pubJwk[k];
  const pub = alg === 'HS256' ? priv : await importJWK(pubJwk, alg);
  const verify = () => jwtVerify(token, pub, {
    algorithms: [alg], typ: 'at+jwt',
    issuer: 'https://auth.example.com', audience: 'https://api.example.com',
  });
  const sign = () => new SignJWT(claims)
    .setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt' }).sign(priv);
  const v = await rate(verify);
  const s = await rate(sign);
  console.log(`${alg} ${v.toFixed(0)} ${s.toFixed(0)}`);
}

// Signs a JWT with a key the provider wrote (for the tokens a provider never issues: expired,
// not yet valid, for another audience or issuer, under an unknown kid), or forges one (alg
// "none", HS256 keyed with the RSA public key). Prints the token.
//
// node mint.mjs KEYS_FILE MODE CLAIMS_JSON   (MODE: rs256 | es256 | unknown-kid | none | hs256-public)
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { SignJWT, importJWK } from 'jose';

const [file, mode, claimsJson] = process.argv.slice(2);
const { keys } = JSON.parse(readFileSync(file, 'utf8'));
const claims = JSON.parse(claimsJson);
const rsa = keys.find((k) => k.alg === 'RS256');
const ec = keys.find((k) => k.alg === 'ES256');
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

let token;
if (mode === 'rs256' || mode === 'es256' || mode === 'unknown-kid') {
  const jwk = mode === 'es256' ? ec : rsa;
  const kid = mode === 'unknown-kid' ? 'no-such-key' : jwk.kid;
  token = await new SignJWT(claims).setProtectedHeader({ alg: jwk.alg, kid }).sign(await importJWK(jwk, jwk.alg));
} else if (mode === 'none') {
  token = `${b64({ alg: 'none', kid: rsa.kid })}.${b64(claims)}.`;
} else if (mode === 'hs256-public') {
  // The classic key confusion: the RSA public key (as PEM, what a naive verifier would load)
  // used as an HMAC secret.
  const { d, p, q, dp, dq, qi, ...pub } = rsa;
  const pem = createPublicKey({ key: pub, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).sign(Buffer.from(pem));
} else {
  throw new Error(`unknown mode ${mode}`);
}
console.log(token);

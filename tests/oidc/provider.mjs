// A real OpenID provider for the identity tests: node-oidc-provider on 127.0.0.1:PORT with keys
// of its own (RS256 and ES256, kids `rsa-G` and `ec-G` for generation G, so a restart with
// another generation is a key rotation), and client_credentials clients whose JWT access tokens
// carry Keycloak's claim shape. Prints "ready" when it listens and "jwks" on every JWKS fetch.
//
// node provider.mjs PORT GENERATION KEYS_OUT
import { writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

const [port, generation, keysOut] = [Number(process.argv[2]), process.argv[3] ?? '1', process.argv[4]];
const issuer = `http://127.0.0.1:${port}`;

const key = async (alg, kid) => {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
};
const keys = [await key('RS256', `rsa-${generation}`), await key('ES256', `ec-${generation}`)];
if (keysOut) writeFileSync(keysOut, JSON.stringify({ issuer, keys }));

// Who each client is, in Keycloak's claims; and which algorithm signs its tokens.
const principals = {
  'oidc-editor': {
    alg: 'RS256',
    claims: {
      preferred_username: 'eva',
      realm_access: { roles: ['offline_access', 'uma_authorization'] },
      groups: ['/projects/deportes/editor', '/staff'],
    },
  },
  'oidc-admin': {
    alg: 'ES256',
    claims: { preferred_username: 'olga', realm_access: { roles: ['admin'] }, groups: [] },
  },
};
const clients = Object.keys(principals).map((id) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
}));

const provider = new Provider(issuer, {
  clients,
  jwks: { keys },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:acervo',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => ({
        scope: 'api',
        audience: 'acervo',
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: principals[client.clientId].alg } },
      }),
    },
  },
  extraTokenClaims: (ctx, token) => principals[token.clientId]?.claims,
});
provider.use(async (ctx, next) => {
  if (ctx.path === '/jwks') console.log('jwks');
  await next();
});
provider.listen(port, '127.0.0.1', () => console.log('ready'));

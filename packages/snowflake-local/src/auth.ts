/**
 * Login checks. Password login compares with the configured user; key-pair login verifies the
 * RS256 JWT snowflake-sdk sends (auth_keypair.js): `iss` = ACCOUNT.USER.SHA256:<base64 sha256 of
 * the public key's DER SPKI>, `sub` = ACCOUNT.USER, signed with the private key.
 * Without a configured user list every login is accepted (the local default).
 */
import crypto, { type KeyObject } from 'node:crypto';
import { sfError } from './errors.ts';

export interface SnowflakeLocalUser {
  name: string;
  password?: string;
  /** PEM text or a KeyObject of the user's RSA public key, for key-pair login. */
  publicKey?: string | KeyObject;
}

export interface LoginData {
  LOGIN_NAME?: string;
  PASSWORD?: string;
  AUTHENTICATOR?: string;
  TOKEN?: string;
  ACCOUNT_NAME?: string;
}

const badLogin = () => sfError('badLogin', 'Incorrect username or password was specified.');
const badJwt = (why: string) => sfError('jwtInvalid', `JWT token is invalid. (${why})`);

export function publicKeyFingerprint(key: string | KeyObject): string {
  const obj =
    typeof key === 'string' ? crypto.createPublicKey(key) : key.type === 'private' ? crypto.createPublicKey(key) : key;
  const der = obj.export({ format: 'der', type: 'spki' });
  return `SHA256:${crypto.createHash('sha256').update(der).digest('base64')}`;
}

/** Returns the canonical user name of a successful login or throws Snowflake's login error. */
export function checkLogin(data: LoginData, users: SnowflakeLocalUser[] | undefined): string {
  const login = (data.LOGIN_NAME ?? '').trim();
  if (!login) throw badLogin();
  const authenticator = (data.AUTHENTICATOR ?? 'SNOWFLAKE').toUpperCase();
  const user = users?.find((u) => u.name.toUpperCase() === login.toUpperCase());
  if (users && !user) throw badLogin();

  if (authenticator === 'SNOWFLAKE_JWT') {
    const token = data.TOKEN ?? '';
    const parts = token.split('.');
    if (parts.length !== 3) throw badJwt('malformed token');
    let header: { alg?: string };
    let payload: { iss?: string; sub?: string; exp?: number };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      throw badJwt('malformed token');
    }
    if (header.alg !== 'RS256') throw badJwt(`unsupported algorithm ${header.alg}`);
    const issUser = payload.sub?.split('.').slice(1).join('.') ?? '';
    if (issUser.toUpperCase() !== login.toUpperCase()) throw badJwt('subject does not match the user');
    // snowflake-sdk writes iat/exp in milliseconds; the JWT standard uses seconds. Accept both.
    if (typeof payload.exp === 'number') {
      const expMs = payload.exp > 1e12 ? payload.exp : payload.exp * 1000;
      if (expMs < Date.now()) throw badJwt('token expired');
    }
    if (!users) return login.toUpperCase();
    if (!user?.publicKey) throw badJwt('no public key is registered for this user');
    const fp = payload.iss?.split('.').slice(2).join('.') ?? '';
    if (fp !== publicKeyFingerprint(user.publicKey)) throw badJwt('public key fingerprint mismatch');
    const key = typeof user.publicKey === 'string' ? crypto.createPublicKey(user.publicKey) : user.publicKey;
    const valid = crypto.verify(
      'RSA-SHA256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      key,
      Buffer.from(parts[2]!, 'base64url'),
    );
    if (!valid) throw badJwt('signature verification failed');
    return user.name.toUpperCase();
  }
  if (authenticator !== 'SNOWFLAKE' && authenticator !== 'USERNAME_PASSWORD_MFA') {
    throw sfError(
      'unsupported',
      `Authenticator ${authenticator} is not supported by snowflake-local (use a password or key pair).`,
    );
  }
  if (!users) return login.toUpperCase();
  if (user?.password === undefined || user.password !== (data.PASSWORD ?? '')) throw badLogin();
  return user.name.toUpperCase();
}

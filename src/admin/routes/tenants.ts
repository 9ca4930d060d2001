/** The tenants: create, change or write one, read one, list them (a tenant token: its own). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isLanguage, parseTenantId, parseTenantName, type Language } from '../../domain/device';
import { parseTimeZone } from '../../domain/display';
import { InputError } from '../../domain/errors';
import { lookAlikeOf } from '../../domain/lookalike';
import { isDeviceCertificatePolicy } from '../../domain/devicecert';
import { parseCallerIdPrefixes } from '../../domain/emergency';
import { actor, HttpError, objectBody, scope, type Api } from '../api';

export function tenantRoutes(api: FastifyInstance, { config, store, tenantOf }: Api): void {
  /**
   * A tenant name that looks like another tenant's (lookAlikeOf) is refused, 409: "Beta" and
   * "B" + Cyrillic "е" + "ta" side by side could not be told apart. A tenant token is not told
   * the other tenant's id. Two look-alike names written at the same moment are not caught: tenants
   * are the operator's to create, one at a time.
   */
  const refuseLookAlikeTenant = async (req: FastifyRequest, id: string, name: string) => {
    const others = (await Promise.all((await store.tenantIds()).map((t) => store.getTenant(t)))).filter(
      (t) => t !== null && t.id !== id,
    );
    const like = lookAlikeOf(name, new Set(others.map((t) => t!.name)));
    if (like === null) return;
    const owner = others.find((t) => t!.name === like)!.id;
    throw new HttpError(
      409,
      'name_looks_alike',
      scope(req) === undefined
        ? `name "${name}" looks like "${like}", the name of tenant "${owner}"; choose one that can be told apart`
        : `name "${name}" looks like another tenant's name; choose one that can be told apart`,
      { field: 'name' },
    );
  };

  /**
   * Writes a tenant from a request body: PUT creates or updates, POST /tenants only creates (409
   * tenant_exists: "create" in the console had overwritten a tenant of the same id), PATCH only
   * updates. Whatever the method, a field not given is left as it is.
   */
  const write = async (
    req: FastifyRequest,
    reply: FastifyReply,
    id: string,
    b: Record<string, unknown>,
    mode: 'create' | 'update' | 'put',
  ) => {
    const name = b.name === undefined ? undefined : parseTenantName(b.name);
    if (b.language !== undefined && b.language !== null && !isLanguage(b.language)) {
      throw new InputError('language must be "en" or "de"', 'language');
    }
    const language = b.language as Language | null | undefined;
    const timeZone =
      b.timeZone === undefined || b.timeZone === null
        ? b.timeZone
        : typeof b.timeZone === 'string'
          ? parseTimeZone(b.timeZone)
          : null;
    if (timeZone === null && b.timeZone !== undefined && b.timeZone !== null)
      throw new InputError('timeZone must be an IANA time zone name such as "Europe/Berlin"', 'timeZone');
    const deviceCertificate = b.deviceCertificate;
    if (deviceCertificate !== undefined && !isDeviceCertificatePolicy(deviceCertificate))
      throw new InputError('deviceCertificate must be "required", "recorded" or "off"', 'deviceCertificate');
    // Without vendor CAs no certificate can be verified: "required" would refuse every phone.
    if (deviceCertificate === 'required' && !config.provisioningTls?.deviceCaFile)
      throw new InputError('deviceCertificate "required" needs PROVISIONING_DEVICE_CA', 'deviceCertificate');
    const prefixes =
      b.emergencyCallerIdPrefixes === undefined
        ? undefined
        : parseCallerIdPrefixes(b.emergencyCallerIdPrefixes);
    const current = await store.getTenant(id);
    if (current === null && mode === 'update')
      throw new HttpError(404, 'unknown_tenant', `tenant "${id}" does not exist`);
    if (current !== null && mode === 'create')
      throw new HttpError(409, 'tenant_exists', `tenant "${id}" exists already; change it with PATCH`, {
        field: 'tenant',
      });
    if (scope(req) !== undefined) {
      if (!current) throw new HttpError(403, 'forbidden', 'a tenant token cannot create tenants');
      // Sent back unchanged (as GET answered it) is no attempt to set them. The name is the
      // operator's: it is how the operator tells customers apart (and the look-alike check guards it).
      if (prefixes !== undefined && prefixes.join(',') !== current.emergencyCallerIdPrefixes.join(','))
        throw new HttpError(403, 'forbidden', 'only the operator sets emergencyCallerIdPrefixes', {
          field: 'emergencyCallerIdPrefixes',
        });
      if (name !== undefined && name !== current.name)
        throw new HttpError(403, 'forbidden', 'only the operator renames a tenant', { field: 'name' });
    }
    const shown = current === null ? (name ?? id) : name;
    if (shown !== undefined && shown !== current?.name) await refuseLookAlikeTenant(req, id, shown);
    const res = await store.putTenant(
      id,
      {
        name,
        language,
        timeZone,
        deviceCertificate,
        ...(prefixes === undefined || scope(req) !== undefined
          ? {}
          : { emergencyCallerIdPrefixes: prefixes }),
      },
      actor(req),
      mode,
    );
    // Between the read above and the write, another request created or deleted it.
    if (res === 'exists') throw new HttpError(409, 'tenant_exists', `tenant "${id}" exists already`);
    if (res === 'unknown') throw new HttpError(404, 'unknown_tenant', `tenant "${id}" does not exist`);
    return reply.code(res === 'created' ? 201 : 200).send(await store.getTenant(id));
  };

  api.put('/tenants/:tenant', async (req, reply) =>
    write(req, reply, parseTenantId((req.params as { tenant: string }).tenant), objectBody(req), 'put'),
  );

  api.patch('/tenants/:tenant', async (req, reply) =>
    write(req, reply, parseTenantId((req.params as { tenant: string }).tenant), objectBody(req), 'update'),
  );

  api.post('/tenants', async (req, reply) => {
    if (scope(req) !== undefined)
      throw new HttpError(403, 'forbidden', 'a tenant token cannot create tenants');
    const { id, ...rest } = objectBody(req);
    if (id === undefined) throw new InputError('id is required', 'tenant');
    return write(req, reply, parseTenantId(id), rest, 'create');
  });

  api.get('/tenants/:tenant', async (req) => store.getTenant(await tenantOf(req)));

  api.get('/tenants', async (req) => {
    const own = scope(req);
    const ids = own === undefined ? await store.tenantIds() : [own];
    const all = await Promise.all(ids.map((id) => store.getTenant(id)));
    return { tenants: all.filter((t) => t !== null) };
  });
}

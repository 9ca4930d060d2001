import { AUTH_STATES } from '../domain/auth';
import { LANGUAGES, VENDORS } from '../domain/device';
import { CIVIC_FIELDS } from '../domain/site';

/** OpenAPI 3.1 description of the admin API; test/admin.test.ts checks it lists exactly the routes served. */

const err = { $ref: '#/components/responses/Error' };
const tenant = {
  name: 'tenant',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' },
};
const mac = {
  name: 'mac',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: '12 hex digits, optionally separated by ":" or "-"',
};
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: object = { type: 'object' }) => ({ description, ...json(schema) });
const device = { $ref: '#/components/schemas/Device' };
const TENANT_READ =
  "Reads every device of the tenant: TENANT_READS such reads (list, CSV export, one device's events) " +
  'run at once per tenant; one more waits up to TENANT_READ_WAIT_MS, then gets 429 `tenant_busy` with Retry-After.';
const forbidden = { 403: err };
const site = { $ref: '#/components/schemas/SiteRecord' };
const unknownSite = {
  name: 'unknownSite',
  in: 'query',
  description:
    'accept: add devices naming a site the tenant has no record of (without it: 409 `unknown_site` once the tenant keeps site records)',
  schema: { enum: ['accept'] },
};
const siteParam = {
  name: 'site',
  in: 'path',
  required: true,
  schema: { type: 'string', minLength: 1, maxLength: 128 },
  description: 'the site name the devices carry (URL-encoded)',
};
const settingsLayer = { $ref: '#/components/schemas/SettingsLayer' };
/** GET and PUT of one settings layer (docs/settings.md). */
const settingsPaths = (whose: string, parameters: object[]) => ({
  get: {
    summary: `The settings layer of ${whose}: items per vendor family and common settings`,
    parameters,
    responses: { 200: ok('layer', settingsLayer), 400: err, ...forbidden, 404: err },
  },
  put: {
    summary: `Change the settings layer of ${whose}; reaches each phone at its next fetch`,
    description:
      'A family given replaces its list (an empty list removes it); a common field given replaces it (null clears it). ' +
      "Each item is checked against its family's file format and refused (400, `field` naming the item, e.g. " +
      "`items.yealink.3.value`) when it would break the file or is one of papgate's own. `checkSync: true` also sends " +
      'the devices concerned a check-sync; the answer counts the results (null: the SIP side is off).',
    parameters,
    requestBody: json({
      allOf: [settingsLayer, { type: 'object', properties: { checkSync: { type: 'boolean' } } }],
    }),
    responses: { 200: ok('the layer as stored', settingsLayer), 400: err, ...forbidden, 404: err, 413: err },
  },
});

const page = (description: string, type: string) => ({
  description,
  content: { [type]: { schema: { type: 'string' } } },
});

/** POST .../pin-bypass, and its first name .../suspend (deprecated). */
const pinBypass = {
  summary: 'Skip the PIN for AUTH_SUSPEND_SECONDS (one full file without a PAP), optionally for one network',
  description:
    'The PIN bypass hands out one full file: to the first fetch from `network` when given (the ' +
    "phone's public address or its site's range; fetches from elsewhere get the minimal file and " +
    'leave the bypass running), else to the first fetch from anywhere. 409 holds_credential: ' +
    'the device holds its credential (reset it instead). Audited as `suspend` (its first name).',
  parameters: [tenant, mac],
  requestBody: {
    required: false,
    ...json({
      type: 'object',
      properties: {
        network: {
          type: ['string', 'null'],
          description:
            'an IPv4/IPv6 address or CIDR range, checked as a whitelist entry is (no /0, no host bits, at most a /8 or /16); absent or null: unbound',
        },
      },
    }),
  },
  responses: {
    200: ok('pinBypassUntil, pinBypassNetwork (and their first names suspendedUntil, suspensionNetwork)'),
    400: err,
    404: err,
    409: err,
  },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'papgate admin API',
    version: '1',
    description:
      'Devices, PAPs, whitelists, CSV and the PAP check. Every /api route needs `Authorization: Bearer <token>`: ' +
      'the operator token (ADMIN_TOKEN) reaches everything; a tenant admin token (POST /api/v1/tenants/{tenant}/tokens) ' +
      'reaches only its own tenant and answers 403 elsewhere.',
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/v1/session': {
      get: {
        summary: 'Who the bearer token is: the operator, or a tenant token (its tenant and name)',
        description:
          'For the operator, `warnings`: what the configuration leaves broken that start-up logs as a warning ' +
          '(e.g. the SIP side on without EMERGENCY_ROUTE); empty when none.',
        responses: { 200: ok('session'), 401: err },
      },
    },
    '/api/v1/tenants': {
      get: {
        summary: 'Tenants the token reaches (a tenant token: its own)',
        responses: { 200: ok('tenants'), 401: err },
      },
      post: {
        summary: 'Create a tenant (operator only); an existing id is refused, never overwritten',
        description:
          'The body is that of PUT /api/v1/tenants/{tenant} with the tenant id as `id`. 409 tenant_exists: ' +
          'a tenant of that id exists (change it with PATCH).',
        requestBody: json({ type: 'object', required: ['id'], properties: { id: tenant.schema } }),
        responses: { 201: ok('created'), 400: err, 401: err, ...forbidden, 409: err },
      },
    },
    '/api/v1/tenants/{tenant}/tokens': {
      get: {
        summary: 'Tenant admin tokens: name, created, last used (to the minute), revoked; never the token',
        parameters: [tenant],
        responses: { 200: ok('tokens'), ...forbidden, 404: err },
      },
      post: {
        summary: 'Create a tenant admin token; the answer is the only time the token is shown',
        description:
          '409 name_taken (names are unique for good) or too_many_tokens (20 tokens that are not revoked, ' +
          'the most a tenant may have: revoke one first)',
        parameters: [tenant],
        requestBody: json({
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$' } },
        }),
        responses: { 201: ok('token'), 400: err, ...forbidden, 404: err, 409: err },
      },
    },
    '/api/v1/tenants/{tenant}/tokens/{tokenId}': {
      delete: {
        summary: 'Revoke a tenant admin token (it stays listed, revoked)',
        parameters: [tenant, { name: 'tokenId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 204: { description: 'revoked' }, ...forbidden, 404: err },
      },
    },
    '/api/v1/tenants/{tenant}': {
      put: {
        summary: 'Create or update a tenant',
        description:
          'A field not given is left as it is (a new tenant is named by its id); null clears language and ' +
          "timeZone. 409 name_looks_alike: the name looks like another tenant's (same skeleton: NFKC, " +
          'Unicode confusables, case).',
        parameters: [tenant],
        requestBody: json({
          type: 'object',
          properties: {
            name: {
              type: 'string',
              minLength: 1,
              maxLength: 200,
              description:
                'no control or invisible characters (bidirectional controls, zero-width, fillers, ' +
                'variation selectors, spaces other than U+0020 and U+3000) and no white space at either end: ' +
                '400; the same holds for every name and text field',
            },
            language: { enum: LANGUAGES },
            timeZone: {
              type: 'string',
              description: 'IANA time zone of lock ends on phone displays (default DEFAULT_TIME_ZONE)',
            },
            deviceCertificate: {
              enum: ['required', 'recorded', 'off'],
              description:
                "What a phone's factory certificate counts for (HTTPS with PROVISIONING_DEVICE_CA): " +
                '"required" refuses provisioning without a verified one naming the MAC, "recorded" writes ' +
                'the result into the audit, "off" ignores certificates. Omitted: unchanged (new tenants: ' +
                '"recorded"). "required" needs PROVISIONING_DEVICE_CA.',
            },
            emergencyCallerIdPrefixes: {
              type: 'array',
              maxItems: 100,
              items: { type: 'string', pattern: '^\\+[1-9][0-9]{0,14}$' },
              description:
                "E.164 prefixes of the emergency caller IDs the tenant's tokens may give its sites. Operator " +
                'only (a tenant token gets 403 unless it sends them back unchanged); omitted: unchanged; none: ' +
                'only the operator sets caller IDs.',
            },
          },
        }),
        responses: { 201: ok('created'), 200: ok('updated'), 400: err, 401: err, ...forbidden, 409: err },
      },
      patch: {
        summary:
          'Update a tenant: only the fields given change (the body of PUT); 404 for a tenant that does not exist',
        description:
          "A tenant token may change its tenant's language, timeZone and deviceCertificate; the name and " +
          "emergencyCallerIdPrefixes are the operator's (403 unless sent back unchanged). The audit event " +
          '`tenant_updated` lists the fields that changed (`changed`), each with its new value and its old ' +
          'one (`previous<Field>`, e.g. `previousName`).',
        parameters: [tenant],
        requestBody: json({ type: 'object' }),
        responses: { 200: ok('updated'), 400: err, 401: err, ...forbidden, 404: err, 409: err },
      },
      get: {
        summary: 'Read a tenant',
        parameters: [tenant],
        responses: { 200: ok('tenant'), 404: err, 401: err },
      },
    },
    '/api/v1/tenants/{tenant}/devices': {
      post: {
        summary: 'Add a device; answers its PAP',
        description:
          '409 `duplicate_mac`: a device of this tenant has the MAC; 409 `mac_registered_elsewhere`: ' +
          'another tenant has it (a tenant token is told to ask the operator, the operator which tenant). ' +
          'A tenant token is told of at most MAC_PROBE_LIMIT such MACs per MAC_PROBE_WINDOW_SECONDS; ' +
          'past that every addition of the tenant gets 429 with Retry-After until the window ends. ' +
          '409 `unknown_site`: the tenant keeps site records and none is named so (the answer lists them).',
        parameters: [tenant, unknownSite],
        requestBody: json({ $ref: '#/components/schemas/NewDevice' }),
        responses: { 201: ok('created', device), 400: err, 404: err, 409: err, 413: err, 429: err },
      },
      get: {
        summary: 'List devices',
        description: TENANT_READ,
        parameters: [
          tenant,
          { name: 'state', in: 'query', schema: { enum: AUTH_STATES } },
          { name: 'site', in: 'query', schema: { type: 'string' } },
          {
            name: 'siteRecord',
            in: 'query',
            description: 'missing: only devices whose site has no record (no emergency caller ID or address)',
            schema: { enum: ['missing'] },
          },
          {
            name: 'mismatch',
            in: 'query',
            description: "1: only devices refused for another phone's User-Agent (`userAgentMismatch`)",
            schema: { enum: ['1'] },
          },
          {
            name: 'papExpired',
            in: 'query',
            description: '1: only devices whose PAP outlived PAP_LIFETIME_DAYS (`papExpired`)',
            schema: { enum: ['1'] },
          },
          {
            name: 'q',
            in: 'query',
            description: 'part of the MAC, any notation',
            schema: { type: 'string' },
          },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } },
          {
            name: 'limit',
            in: 'query',
            description: 'page size; all matching devices without it',
            schema: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        ],
        responses: {
          200: ok('a page of the matching devices (oldest first) and the tenant-wide counts', {
            type: 'object',
            properties: {
              devices: { type: 'array', items: device },
              total: { type: 'integer', description: 'matching devices' },
              offset: { type: 'integer' },
              limit: { type: ['integer', 'null'] },
              sites: { type: 'array', items: { type: 'string' } },
              stateCounts: { type: 'object' },
            },
          }),
          400: err,
          404: err,
          429: err,
        },
      },
    },
    '/api/v1/tenants/{tenant}/devices.csv': {
      get: {
        summary:
          'Export devices as CSV (vendor,type,mac,created,site,state,pap,language and the first account: ' +
          'sip_server,sip_user,sip_auth_user,sip_password,display_name)',
        description: `${TENANT_READ} sip_password is empty unless \`passwords=true\` (audited in csv_exported).`,
        parameters: [
          tenant,
          { name: 'state', in: 'query', schema: { enum: AUTH_STATES } },
          { name: 'passwords', in: 'query', schema: { enum: ['true', 'false'] } },
        ],
        responses: {
          200: { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } },
          404: err,
          429: err,
        },
      },
      post: {
        summary:
          'Import devices from CSV: all rows or none; with mode=update, rows of existing MACs update them',
        description:
          'At most 10,000 rows, 32 cells a row and 256 characters a cell. Every error of the file is in one ' +
          'answer: a refusal lists the first 100 bad rows (`rows`: line, mac, column where one is at fault, ' +
          '`unknownSite`: the site when it has no record, reason) and counts them all (`badRows`); 409 when every one is a MAC taken or a site without a record, else 400. A MAC the ' +
          'tenant has is an error unless `mode=update`: then the row edits that device as PATCH does (PAP ' +
          'and authentication stay; its account replaces the first, an empty sip_password keeps the password; ' +
          'no language column or no account cells keep those). The answer counts `created`, `updated` (devices the ' +
          'import changed) and `unchanged` (rows that change nothing: written and audited nothing). ' +
          'MACs of other tenants count against MAC_PROBE_LIMIT as for POST .../devices (429 with Retry-After past it), ' +
          'and sites without a record are refused as there.',
        parameters: [tenant, unknownSite, { name: 'mode', in: 'query', schema: { enum: ['add', 'update'] } }],
        requestBody: { content: { 'text/csv': { schema: { type: 'string' } } } },
        responses: { 201: ok('created'), 400: err, 409: err, 413: err, 415: err, 429: err },
      },
    },
    '/api/v1/tenants/{tenant}/devices/{mac}': {
      get: {
        summary: 'Read a device (shows the PAP while not successful)',
        parameters: [tenant, mac],
        responses: { 200: ok('device', device), 400: err, 404: err },
      },
      delete: {
        summary: 'Delete a device',
        parameters: [tenant, mac],
        responses: { 204: { description: 'deleted' }, 404: err },
      },
      patch: {
        summary: "Edit a device's site, model, language or accounts; its PAP and authentication state stay",
        description:
          'Only the fields given change, checked as an addition is. `accounts` replaces the list; an ' +
          'account without `password` keeps the password of the current account with the same `user` and ' +
          '`server` (a new account needs one). 400 for `vendor` or `mac` (delete and add the device). The ' +
          'phone gets the new file on its next fetch. Audited as `device_edited` with `changed`, the new ' +
          'and `previous<Field>` values (accounts without passwords) and `passwordsChanged` (user@server). ' +
          '409 edit_conflict: the device kept changing while it was edited.',
        parameters: [tenant, mac],
        requestBody: json({
          type: 'object',
          additionalProperties: false,
          properties: {
            site: { type: 'string' },
            model: { type: 'string' },
            language: { enum: [...LANGUAGES, null] },
            accounts: { type: 'array', items: { type: 'object' } },
          },
        }),
        responses: { 200: ok('device', device), 400: err, ...forbidden, 404: err, 409: err },
      },
    },
    '/api/v1/tenants/{tenant}/devices/{mac}/reset': {
      post: {
        summary: 'Reset authentication: new PAP, credential revoked',
        description:
          '`stillLetIn`: what still hands the device its full file without the new PAP, as GET .../bypasses ' +
          'lists it (`via`: `temporary_whitelist` with ip, site, expiresAt; `whitelist` with entry; `pin_bypass`); ' +
          'empty when nothing does.',
        parameters: [tenant, mac],
        responses: { 200: ok('mac, pap, state, stillLetIn'), 404: err },
      },
    },
    '/api/v1/tenants/{tenant}/devices/{mac}/pin-bypass': {
      post: pinBypass,
      delete: {
        summary:
          'End a running PIN bypass early (audited `pin_bypass_ended`); 409 no_pin_bypass when none runs',
        parameters: [tenant, mac],
        responses: { 204: { description: 'ended' }, 404: err, 409: err },
      },
    },
    '/api/v1/tenants/{tenant}/devices/{mac}/unlock': {
      post: {
        summary:
          'Unlock a `failed` device before its lock runs out, keeping its PAP (transition 7, audited `unlock`); 409 not_failed otherwise (a `blocked` device needs a reset)',
        parameters: [tenant, mac],
        responses: { 200: ok('mac, state'), 404: err, 409: err },
      },
    },
    '/api/v1/tenants/{tenant}/devices/{mac}/bypasses': {
      get: {
        summary:
          "What hands the device its full file without a PAP once it holds no credential: its PIN bypass, the live temporary whitelist entries of its site (and tenant-wide ones), the tenant's permanent whitelist",
        parameters: [tenant, mac],
        responses: { 200: ok('mac, site, pinBypass, temporary, permanent'), 404: err },
      },
    },
    '/api/v1/tenants/{tenant}/devices/{mac}/disable': {
      post: {
        summary:
          'Disable a device (audited `device_disabled`): every fetch gets the minimal configuration (its emergency route kept, the phone drops its accounts), no PAP is taken; `changed` false when it was disabled already',
        parameters: [tenant, mac],
        responses: { 200: ok('mac, disabled, changed'), 404: err },
      },
    },
    '/api/v1/tenants/{tenant}/devices/{mac}/enable': {
      post: {
        summary:
          'Enable a disabled device again (audited `device_enabled`); a phone that got the minimal file meanwhile no longer holds its credential: reset it',
        parameters: [tenant, mac],
        responses: { 200: ok('mac, disabled, changed'), 404: err },
      },
    },
    '/api/v1/tenants/{tenant}/devices/{mac}/accept-model': {
      post: {
        summary:
          "Make the model the device's last refused User-Agent named (`userAgentMismatch.model`: a phone swapped between desks) the device's model, audited `model_accepted`; 409 no_model_to_accept (none seen, or one naming another MAC or vendor), 409 changed (another seen meanwhile)",
        parameters: [tenant, mac],
        responses: { 200: ok('mac, model, previousModel'), 400: err, 404: err, 409: err },
      },
    },
    '/api/v1/tenants/{tenant}/devices/{mac}/suspend': {
      post: {
        ...pinBypass,
        deprecated: true,
        summary:
          'The first name of POST /devices/{mac}/pin-bypass, kept as an alias: the same request and answer',
      },
    },
    '/api/v1/tenants/{tenant}/summary': {
      get: {
        summary:
          "The tenant's roll-out: how many devices are in each state (settled as the device list shows them) and suspended, in all and per site (`sites`, by name), as of `at` (counted at most every 5 s); `userAgentMismatch` and `papExpired` count the devices of the list filters `mismatch=1` and `papExpired=1`",
        parameters: [tenant],
        responses: {
          200: ok('total, states, suspended, sites, userAgentMismatch, papExpired, at'),
          ...forbidden,
          404: err,
        },
      },
    },
    '/api/v1/tenants/{tenant}/devices/{mac}/effective-file': {
      get: {
        summary: "The device's full file as it would get it now, every secret masked",
        description:
          "Rendered from the templates it would be served from (`sources`: papgate's own or the operator's, " +
          'PROVISIONING_TEMPLATES_DIR); account passwords, the device credential (in the provisioning URL and the ' +
          'HTTP credentials), the restricted password and setting items whose names hold a secret read `********`. Issues no credential, changes nothing, not ' +
          'audited. 404 no_file: papgate names no configuration file for the device.',
        parameters: [tenant, mac],
        responses: {
          200: ok('mac, file, contentType, sources (origin, path), body'),
          ...forbidden,
          404: err,
        },
      },
    },
    '/api/v1/tenants/{tenant}/sites': {
      get: {
        summary: "Site records: each site's emergency caller ID, civic address, route (by name)",
        parameters: [tenant],
        responses: { 200: ok('sites'), ...forbidden, 404: err },
      },
    },
    '/api/v1/tenants/{tenant}/sites/{site}': {
      put: {
        summary:
          "Create or replace a site's record: emergency calls of the site's devices carry its caller ID, and its address where the route accepts a location. " +
          'A route not among EMERGENCY_ROUTE and EMERGENCY_SITE_ROUTES: 400; a tenant token giving a caller ID outside its ' +
          "tenant's emergencyCallerIdPrefixes: 403 (it may keep one the operator set); a new record whose name looks like " +
          "another of the tenant's: 409 name_looks_alike",
        parameters: [tenant, siteParam],
        requestBody: json({ $ref: '#/components/schemas/SiteRecord' }),
        responses: {
          201: ok('created', site),
          200: ok('replaced', site),
          400: err,
          ...forbidden,
          404: err,
          409: err,
        },
      },
      get: {
        summary: "Read a site's record",
        parameters: [tenant, siteParam],
        responses: { 200: ok('site', site), 400: err, ...forbidden, 404: err },
      },
      delete: {
        summary:
          "Delete a site's record (its devices keep the site name; their emergency calls go as without a record)",
        parameters: [tenant, siteParam],
        responses: { 204: { description: 'deleted' }, 400: err, ...forbidden, 404: err },
      },
    },
    '/api/v1/tenants/{tenant}/settings': settingsPaths('the tenant', [tenant]),
    '/api/v1/tenants/{tenant}/sites/{site}/settings': settingsPaths(
      'a site (any site name its devices carry)',
      [tenant, siteParam],
    ),
    '/api/v1/tenants/{tenant}/devices/{mac}/settings': settingsPaths('a device (items only)', [tenant, mac]),
    '/api/v1/tenants/{tenant}/whitelist': {
      get: {
        summary: 'Permanent whitelist',
        parameters: [tenant],
        responses: { 200: ok('entries'), 404: err },
      },
      post: {
        summary: 'Add an address or CIDR range',
        description:
          'Refused (400) when the whole whitelist would then cover more than a /8 worth of IPv4 ' +
          'addresses or a /16 worth of IPv6; 409 whitelist_full when it holds WHITELIST_MAX_ENTRIES',
        parameters: [tenant],
        requestBody: json({
          type: 'object',
          required: ['entry'],
          properties: { entry: { type: 'string', examples: ['198.51.100.0/24'] } },
        }),
        responses: { 201: ok('added'), 200: ok('already present'), 400: err, 404: err, 409: err },
      },
    },
    '/api/v1/tenants/{tenant}/whitelist/{entry}': {
      delete: {
        summary: 'Remove an entry (URL-encoded, e.g. 198.51.100.0%2F24)',
        parameters: [tenant, { name: 'entry', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 204: { description: 'removed' }, 400: err, 404: err },
      },
    },
    '/api/v1/tenants/{tenant}/whitelist/temporary': {
      get: {
        summary: 'Temporary whitelist with expiry',
        parameters: [tenant],
        responses: { 200: ok('entries'), 404: err },
      },
    },
    '/api/v1/tenants/{tenant}/whitelist/temporary/{ip}': {
      delete: {
        summary:
          "Remove an address's live temporary entries, each audited (`temporary_whitelist_removed`): of one site with ?site=, else of every site; 404 when none",
        parameters: [
          tenant,
          {
            name: 'ip',
            in: 'path',
            required: true,
            schema: { type: 'string' },
            description: 'an IPv4 or IPv6 address',
          },
          { name: 'site', in: 'query', required: false, schema: { type: 'string' } },
        ],
        responses: { 200: ok('ip, site, removed (how many entries)'), 400: err, 404: err },
      },
    },
    '/api/v1/tenants/{tenant}/events': {
      get: {
        summary: 'Audit trail (or, with stream=traffic, phone traffic), newest first',
        parameters: [
          tenant,
          {
            name: 'stream',
            in: 'query',
            description:
              'audit (default): admin actions, attempts, state changes; traffic: provisioning answers and ' +
              'refused REGISTERs, at most TRAFFIC_PER_CLIENT per client address prefix and TRAFFIC_WINDOW_SECONDS',
            schema: { enum: ['audit', 'traffic'] },
          },
          { name: 'count', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          { name: 'before', in: 'query', schema: { type: 'string' } },
          {
            name: 'mac',
            in: 'query',
            description:
              "only this device's events (a read of the whole stream: see GET .../devices for 429)",
            schema: { type: 'string' },
          },
        ],
        responses: { 200: ok('events'), 400: err, 404: err, 429: err },
      },
    },
    '/api/v1/authenticate': {
      post: {
        summary: 'The atomic PAP check, for integrators whose own IVR collects the digits',
        requestBody: json({
          type: 'object',
          required: ['mac', 'pap'],
          properties: {
            mac: { type: 'string' },
            pap: { type: 'string', pattern: '^[0-9]{6}$' },
            ip: { type: 'string' },
          },
        }),
        responses: {
          200: ok('outcome', {
            type: 'object',
            properties: {
              outcome: {
                enum: ['successful', 'wrong_pap', 'failed', 'blocked', 'not_required', 'pap_expired'],
              },
              state: { enum: AUTH_STATES },
              attemptsLeft: { type: 'integer' },
              failedUntil: { type: ['string', 'null'] },
              whitelistedIp: { type: ['string', 'null'] },
            },
          }),
          400: err,
          404: err,
          // source_limited, with Retry-After: too many wrong PAPs from this client across devices
          429: err,
        },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', security: [], responses: { 200: ok('OpenAPI document') } },
    },
    '/healthz': {
      get: { summary: 'Liveness: the process answers', security: [], responses: { 200: ok('alive') } },
    },
    '/readyz': {
      get: {
        summary:
          'Readiness: Redis answers a PING within STORE_TIMEOUT_MS; FreeSWITCH and drachtio-server are connected when the SIP side is on',
        security: [],
        responses: {
          200: ok('ready', {
            type: 'object',
            properties: { status: { const: 'ready' }, checks: { type: 'object' } },
          }),
          503: ok('not ready: `checks` names each failing part (unreachable, timeout, not_connected)'),
        },
      },
    },
    '/metrics': {
      get: {
        summary:
          'Prometheus metrics (text format). Served here when ADMIN_HOST is loopback or METRICS_PUBLIC=1 and METRICS_PORT is unset; 404 otherwise',
        security: [],
        responses: { 200: page('Prometheus exposition', 'text/plain'), 404: err },
      },
    },
    '/': {
      get: {
        summary: 'The operator console (web page; signs in with a token)',
        security: [],
        responses: { 200: page('console page', 'text/html') },
      },
    },
    '/console/app.js': {
      get: {
        summary: "The console's script bundle",
        security: [],
        responses: { 200: page('script', 'text/javascript'), 503: err },
      },
    },
    '/console/app.css': {
      get: {
        summary: "The console's stylesheet",
        security: [],
        responses: { 200: page('stylesheet', 'text/css'), 503: err },
      },
    },
    '/favicon.ico': {
      get: {
        summary: "The console's icon (SVG)",
        security: [],
        responses: { 200: page('icon', 'image/svg+xml') },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    responses: {
      Error: ok('error', {
        type: 'object',
        properties: { error: { type: 'string' }, message: { type: 'string' } },
      }),
    },
    schemas: {
      SettingsLayer: {
        type: 'object',
        properties: {
          items: {
            type: 'object',
            description:
              'lists by vendor family (yealink, snom, poly, cisco, gigaset, grandstream, panasonic)',
            additionalProperties: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'value'],
                properties: { name: { type: 'string' }, value: { type: 'string' } },
              },
            },
          },
          common: {
            type: 'object',
            description: 'tenant and site only',
            properties: {
              timeZone: { type: ['string', 'null'] },
              ntpServer: { type: ['string', 'null'] },
              phoneLanguage: { type: ['string', 'null'] },
            },
          },
        },
      },
      SiteRecord: {
        type: 'object',
        required: ['emergencyCallerId'],
        properties: {
          name: { type: 'string', readOnly: true },
          emergencyCallerId: {
            type: 'string',
            pattern: '^\\+[1-9][0-9]{1,14}$',
            description: 'E.164 call-back number',
          },
          civicAddress: {
            type: ['object', 'null'],
            description: 'RFC 5139 civicAddress elements; country (ISO 3166 alpha-2) and at least one more',
            required: ['country'],
            additionalProperties: false,
            properties: Object.fromEntries(CIVIC_FIELDS.map((f) => [f, { type: 'string', maxLength: 128 }])),
          },
          emergencyRoute: {
            type: ['string', 'null'],
            description:
              "SIP URI for the site's emergency calls instead of EMERGENCY_ROUTE: EMERGENCY_ROUTE itself or one of EMERGENCY_SITE_ROUTES",
          },
          emergencyCallerIdBy: {
            enum: ['operator', 'tenant'],
            readOnly: true,
            description:
              "who set the caller ID: the operator's token (any number), or a tenant token (checked against the tenant's " +
              'emergencyCallerIdPrefixes on every call)',
          },
          sendLocation: {
            type: ['boolean', 'null'],
            description: 'whether the route accepts a location (PIDF-LO); null: EMERGENCY_SEND_LOCATION',
          },
        },
      },
      NewDevice: {
        type: 'object',
        required: ['mac', 'vendor', 'model', 'site'],
        properties: {
          mac: { type: 'string' },
          vendor: {
            enum: VENDORS,
          },
          model: {
            type: 'string',
            description:
              'a model papgate knows in any spelling (`sip-t54w`), stored by its canonical name, or one EXTRA_MODELS declares; another: 400 naming the closest',
          },
          site: { type: 'string' },
          language: { enum: LANGUAGES },
          accounts: {
            type: 'array',
            items: {
              type: 'object',
              required: ['server', 'user', 'password'],
              properties: {
                server: { type: 'string' },
                user: { type: 'string' },
                authUser: { type: 'string' },
                password: { type: 'string' },
                displayName: { type: 'string' },
              },
            },
          },
        },
      },
      Device: {
        type: 'object',
        properties: {
          mac: { type: 'string' },
          state: { enum: AUTH_STATES },
          pap: { type: ['string', 'null'] },
          vendor: { type: 'string' },
          model: { type: 'string' },
          modelKnown: {
            type: 'boolean',
            description:
              'false: a model papgate does not know and EXTRA_MODELS does not declare (stored before models were checked)',
          },
          site: { type: 'string' },
          createdAt: { type: 'string' },
          failedUntil: { type: ['string', 'null'] },
          attemptsLeft: { type: 'integer' },
          suspendedUntil: { type: ['string', 'null'] },
          challenged: {
            description:
              'Asked for its configuration without the credential it holds and not answered yet: when first (ISO time) and from where',
            oneOf: [{ $ref: '#/components/schemas/Sighting' }, { type: 'null' }],
          },
          needsReset: {
            description:
              'The last request that marked it as needing reset: without the credential it holds, from an address whose challenge went unanswered (a factory-reset phone, or a stranger behind its address: only challenged again), or the minimal "reset needed" file of a device authenticated without a credential. Cleared when the phone shows its credential; reset the device only when the phone really lost its configuration',
            oneOf: [{ $ref: '#/components/schemas/Sighting' }, { type: 'null' }],
          },
          suspensionNetwork: { type: ['string', 'null'] },
          pinBypass: { type: 'boolean', description: 'suspended by what it does' },
          pinBypassUntil: { type: ['string', 'null'], description: 'suspendedUntil by what it does' },
          authenticatedVia: {
            enum: ['pap', 'credential', 'whitelist', 'temporary_whitelist', 'pin_bypass', null],
            description:
              'how it got its last full file; `pin_bypass` is stored (and audited) as `suspension`',
          },
          disabledAt: { type: ['string', 'null'], description: 'disabled by an admin since (null: enabled)' },
          papExpiresAt: {
            type: ['string', 'null'],
            description:
              'when the PAP still to be typed expires (PAP_LIFETIME_DAYS; null: never, or none to type)',
          },
          userAgentMismatch: {
            description:
              'The last provisioning request refused because its User-Agent named another phone (the User-Agent itself is in the phone traffic): when, from where, and `model`, the model it named when accepting it is all it takes (null: another MAC or vendor)',
            oneOf: [
              {
                type: 'object',
                required: ['at', 'ip', 'model'],
                properties: {
                  at: { type: 'string' },
                  ip: { type: 'string' },
                  model: { type: ['string', 'null'] },
                },
              },
              { type: 'null' },
            ],
          },
          pinBypassNetwork: { type: ['string', 'null'], description: 'suspensionNetwork by what it does' },
        },
      },
      Sighting: {
        type: 'object',
        required: ['at', 'ip'],
        properties: { at: { type: 'string' }, ip: { type: 'string' } },
      },
    },
  },
} as const;

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../src/lib/paths';

/**
 * docker-compose.yml and the Dockerfile: valid Compose, every image pinned to a version, and the
 * image's Node.js the one the test command runs on (PAPGATE_NODE in scripts/runtime.sh).
 */

const read = (f: string) => fs.readFileSync(path.join(PROJECT_ROOT, f), 'utf8');

/** A value of scripts/runtime.sh, the one place the pinned Node.js versions are written. */
function runtimePin(name: string): string {
  const m = new RegExp(`^${name}=(\\S+)`, 'm').exec(read('scripts/runtime.sh'));
  assert.ok(m, `${name} is set in scripts/runtime.sh`);
  return m[1]!;
}

/** The image of each FROM line, without the names of earlier build stages. */
function fromImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  for (const line of dockerfile.split('\n')) {
    const m = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(line);
    if (!m) continue;
    if (!stages.has(m[1]!.toLowerCase())) images.push(m[1]!);
    if (m[2]) stages.add(m[2].toLowerCase());
  }
  return images;
}

interface ImageRef {
  name: string;
  tag: string | null;
  digest: string | null;
}

function parseImage(ref: string): ImageRef {
  const [rest, digest] = ref.split('@') as [string, string | undefined];
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  const hasTag = colon > slash;
  return {
    name: hasTag ? rest.slice(0, colon) : rest,
    tag: hasTag ? rest.slice(colon + 1) : null,
    digest: digest ?? null,
  };
}

/** A digest, or a tag naming at least major.minor: not `latest`, not a bare major or a release name. */
function pinned(i: ImageRef): boolean {
  if (i.digest !== null) return /^sha256:[0-9a-f]{64}$/.test(i.digest);
  return i.tag !== null && /^v?\d+\.\d+(\.\d+)*([-_.+][\w.-]+)?$/.test(i.tag);
}

const isNode = (name: string) => /^(?:(?:docker\.io\/)?library\/)?node$/.test(name);

interface ComposeService {
  image?: string;
  build?: string | { dockerfile_inline?: string; context?: string; dockerfile?: string };
}
const compose = () => parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };

/** Every image docker compose pulls or builds on: `image:` of each service and each FROM. */
function allImages(): { where: string; ref: string }[] {
  const out: { where: string; ref: string }[] = [];
  for (const ref of fromImages(read('Dockerfile'))) out.push({ where: 'Dockerfile', ref });
  for (const [name, s] of Object.entries(compose().services)) {
    if (s.image) out.push({ where: `docker-compose.yml ${name}`, ref: s.image });
    const build = s.build;
    if (typeof build === 'object' && build.dockerfile_inline)
      for (const ref of fromImages(build.dockerfile_inline))
        out.push({ where: `docker-compose.yml ${name} (dockerfile_inline)`, ref });
  }
  return out;
}

/**
 * The Compose Specification's JSON schema (compose-spec/compose-spec, schema/compose-spec.json) as
 * dclint ships it, compiled by ajv. The schema names its meta-schema by an https address; ajv knows
 * draft-07 by its http one, so the same meta-schema is registered under both.
 */
function composeValidator() {
  const dir = path.dirname(require.resolve('dclint/package.json'));
  const schema = JSON.parse(fs.readFileSync(path.join(dir, 'schemas', 'compose.schema.json'), 'utf8')) as {
    $schema: string;
    title: string;
  };
  assert.equal(schema.title, 'Compose Specification');
  // strictTypes only asks schema authors for style (type beside patternProperties, no union types)
  const ajv = new Ajv({ allErrors: true, strictTypes: false });
  ajv.addMetaSchema({ ...draft07, $id: schema.$schema });
  return ajv.compile(schema);
}

describe('images: docker-compose.yml and the Dockerfile', () => {
  it('docker-compose.yml is valid against the Compose Specification schema', () => {
    const validate = composeValidator();
    const ok = validate(compose());
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  });

  it('the schema check fails on a service the specification does not allow', () => {
    const validate = composeValidator();
    const broken = compose();
    (broken.services.redis as Record<string, unknown>).network_mod = 'host';
    assert.equal(validate(broken), false);
  });

  it('pins every image to a version (a digest, or a tag naming at least major.minor)', () => {
    const images = allImages();
    assert.ok(images.length >= 4, `found ${images.map((i) => i.ref).join(', ')}`);
    const unpinned = images.filter((i) => !pinned(parseImage(i.ref)));
    assert.deepEqual(unpinned, []);
  });

  it('tells pinned from unpinned references', () => {
    for (const ref of ['node:24.22.3-bookworm-slim', 'debian:12.15-slim', 'drachtio/drachtio-server:0.9.10'])
      assert.equal(pinned(parseImage(ref)), true, ref);
    assert.equal(pinned(parseImage(`redis@sha256:${'a'.repeat(64)}`)), true);
    for (const ref of [
      'redis',
      'redis:latest',
      'redis:7-alpine',
      'node:24-bookworm-slim',
      'debian:bookworm-slim',
    ])
      assert.equal(pinned(parseImage(ref)), false, ref);
    assert.equal(pinned(parseImage('localhost:5000/redis')), false);
  });

  it('builds on the Node.js every suite runs on (PAPGATE_NODE), in every stage', () => {
    const want = runtimePin('PAPGATE_NODE');
    const nodes = allImages().filter((i) => isNode(parseImage(i.ref).name));
    assert.ok(nodes.length > 0, 'the Dockerfile builds on the node image');
    for (const i of nodes)
      assert.equal(/^(\d+\.\d+\.\d+)/.exec(parseImage(i.ref).tag ?? '')?.[1], want, `${i.where}: ${i.ref}`);
  });

  it("this run is on a pinned Node.js build, the image's where every suite runs", function () {
    // scripts/test.sh says which Node.js it started the suites on; on the machine's own node (24 or
    // newer) there is no pinned version to hold it to.
    const source = process.env.PAPGATE_NODE_SOURCE;
    if (source !== 'project' && source !== 'other') this.skip();
    const want = runtimePin(source === 'project' ? 'PAPGATE_NODE' : 'PAPGATE_NODE_NEXT');
    assert.equal(process.version, `v${want}`);
  });

  it('runs the drachtio-server release the e2e suite runs', function () {
    const dir = path.resolve(PROJECT_ROOT, process.env.E2E_SERVERS_DIR ?? '../shared/sip-servers');
    const archive = fs.existsSync(dir)
      ? fs.readdirSync(dir).find((f) => /^drachtio-server-\d+\.\d+\.\d+-/.test(f))
      : undefined;
    if (!archive) this.skip();
    const tested = /^drachtio-server-(\d+\.\d+\.\d+)-/.exec(archive!)![1];
    assert.equal(parseImage(compose().services.drachtio!.image!).tag, tested);
  });
});

import assert from 'node:assert/strict';
import { ProvisioningFixture, request } from './support/http';

describe('provisioning: store unreachable', () => {
  const f = new ProvisioningFixture();
  before(() => f.start());
  after(async () => {
    await f.app.close();
    f.redis.client.destroy();
    await f.redis.stop(); // server already stopped: removes its directory
  });

  it('answers 503 with Retry-After (never a minimal configuration, never a 404) while Redis is down', async () => {
    await f.device('yealink', 'T54W', '001565aabbcc');
    assert.equal((await request(f.port, '/001565aabbcc.cfg', { from: '127.0.0.2' })).status, 200);
    await f.redis.server.stop();
    for (const path of ['/001565aabbcc.cfg', '/001565000000.cfg', '/nothing']) {
      const res = await request(f.port, path, { from: '127.0.0.2' });
      assert.equal(res.status, 503, path);
      assert.equal(res.headers['retry-after'], '5');
      assert.ok(!res.body.includes('authenticate'));
    }
    // Common files need no store.
    assert.equal((await request(f.port, '/y000000000028.cfg', { from: '127.0.0.2' })).status, 200);
  });
});

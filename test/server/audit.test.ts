/** The audit trail's pieces: the client network it keeps instead of an address, and its retention timer. */
import { clientNetwork, createAuditTrail, startRetention } from '../../server/audit';
import { createMemoryAuditStore } from '../../server/stores/memory-audit';
import type { AuditEntry, AuditStore } from '../../server/stores/types';

describe('clientNetwork', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['10.0.0.1', '10.0.0.0/24'],
    ['::ffff:198.51.100.9', '198.51.100.0/24'],
    ['2001:db8:abcd:12:3456:789a:bcde:f012', '2001:db8:abcd::/48'],
    // The fourth group is beyond the /48: gone.
    ['2001:0db8:0000:0001::1', '2001:db8::/48'],
    ['::1', '::/48'],
    // A link-local zone names this machine's interface, not the client: dropped with the host part.
    ['fe80::1%eth0', 'fe80::/48'],
  ])('keeps %s as %s', (address, network) => {
    expect(clientNetwork(address)).toBe(network);
  });

  it.each([undefined, null, '', 'not an address', '999.1.1.1', '203.0.113.77; drop table'])('keeps nothing of %p', (address) => {
    expect(clientNetwork(address)).toBeNull();
  });
});

describe('the audit trail', () => {
  it('stamps entries with its clock and cuts the address to its network; a failed write is reported, not thrown', async () => {
    const store = createMemoryAuditStore();
    const failures: [unknown, AuditEntry][] = [];
    const trail = createAuditTrail(store, () => 42, (error, entry) => failures.push([error, entry]));
    await trail.record({ userId: 'u', actor: 'user', action: 'login', outcome: 'ok', address: '192.0.2.200' });
    expect(await store.listOf('u', 5)).toEqual([{ at: 42, userId: 'u', actor: 'user', action: 'login', outcome: 'ok', clientNetwork: '192.0.2.0/24', detail: null }]);

    store.record = async () => {
      throw new Error('database away');
    };
    await expect(trail.record({ userId: 'u', actor: 'user', action: 'login', outcome: 'ok' })).resolves.toBeUndefined();
    expect(failures.map(([error, entry]) => [(error as Error).message, entry.action, entry.clientNetwork])).toEqual([['database away', 'login', null]]);
  });
});

describe('retention', () => {
  afterEach(() => jest.useRealTimers());

  /** A store counting purges and the cut-offs they were given. */
  const purgeCounter = () => {
    const cutOffs: number[] = [];
    const store = { ...createMemoryAuditStore(), purge: async (before: number) => (cutOffs.push(before), 3) } satisfies AuditStore;
    return { store, cutOffs };
  };

  it('purges at once, then once a day, each time what is older than the retention; nothing after stop', async () => {
    jest.useFakeTimers({ now: 1_000_000_000 });
    const { store, cutOffs } = purgeCounter();
    const purged: number[] = [];
    const DAY = 24 * 3600 * 1000;
    const retention = startRetention({ audit: store, now: Date.now, retentionMs: 5 * DAY, onPurged: (n) => purged.push(n), onError: (e) => fail(e) });
    await retention.firstRun;
    expect(cutOffs).toEqual([1_000_000_000 - 5 * DAY]);
    await jest.advanceTimersByTimeAsync(DAY - 1);
    expect(cutOffs).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    await jest.advanceTimersByTimeAsync(DAY);
    expect(cutOffs).toEqual([1_000_000_000 - 5 * DAY, 1_000_000_000 - 4 * DAY, 1_000_000_000 - 3 * DAY]);
    expect(purged).toEqual([3, 3, 3]);
    await retention.stop();
    await jest.advanceTimersByTimeAsync(5 * DAY);
    expect(cutOffs).toHaveLength(3);
  });

  it('reports a failed purge and tries again the next day', async () => {
    jest.useFakeTimers();
    let calls = 0;
    const errors: unknown[] = [];
    const store: AuditStore = {
      ...createMemoryAuditStore(),
      purge: async () => {
        calls++;
        if (calls === 1) throw new Error('locked');
        return 0;
      },
    };
    const retention = startRetention({ audit: store, now: Date.now, retentionMs: 1000, intervalMs: 60_000, onPurged: () => undefined, onError: (e) => errors.push(e) });
    await retention.firstRun;
    expect(errors.map((e) => (e as Error).message)).toEqual(['locked']);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    await retention.stop();
  });

  it('keeps no process alive: its timer is unref’d', async () => {
    const { store } = purgeCounter();
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const retention = startRetention({ audit: store, now: Date.now, retentionMs: 1000, onPurged: () => undefined, onError: () => undefined });
    await retention.firstRun;
    // An unref'd timer is not among the resources that keep the event loop alive.
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
    await retention.stop();
  });
});

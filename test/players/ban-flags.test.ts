import { describe, expect, it } from 'vitest';
import { BanPlayerDocument, UnbanPlayerDocument } from '../../sdk/generated/graphql.js';
import { BanFlags } from '../../src/resolvers/players/ban-flags.js';
import { codes, expectNoGraphQLErrors } from '../support/app.js';
import { issue } from '../support/play.js';
import { describeBackends } from '../support/suite.js';

describe('BanFlags (per-instance ban flag cache)', () => {
  const setup = () => {
    let now = 1_000_000;
    const flags = new BanFlags({ maxAgeMs: 1_000, maxEntries: 10, now: () => now });
    let stored = false;
    let reads = 0;
    const read = async () => {
      reads++;
      return stored;
    };
    return {
      flags,
      read,
      reads: () => reads,
      set: (banned: boolean) => (stored = banned),
      advance: (ms: number) => (now += ms),
    };
  };

  it('answers from memory for less than maxAgeMs, then reads again', async () => {
    const s = setup();
    expect(await s.flags.banned('p', s.read)).toBe(false);
    s.set(true); // banned on another instance
    s.advance(999);
    expect(await s.flags.banned('p', s.read)).toBe(false);
    expect(s.reads()).toBe(1);
    s.advance(1);
    expect(await s.flags.banned('p', s.read)).toBe(true);
    expect(s.reads()).toBe(2);
  });

  it('forget() is in force at once, also against a read that was in flight', async () => {
    const s = setup();
    expect(await s.flags.banned('p', s.read)).toBe(false);
    s.set(true);
    s.flags.forget('p');
    expect(await s.flags.banned('p', s.read)).toBe(true);

    // A read that began before a forget must not store its older answer.
    s.flags.forget('q');
    let release!: (banned: boolean) => void;
    const slow = s.flags.banned('q', () => new Promise<boolean>((r) => (release = r)));
    s.flags.forget('q'); // the ban commits while that read is in flight
    release(false);
    expect(await slow).toBe(false);
    s.set(true);
    expect(await s.flags.banned('q', s.read)).toBe(true);
  });

  it('holds at most maxEntries players', async () => {
    const s = setup();
    for (let i = 0; i < 25; i++) await s.flags.banned(`p${i}`, s.read);
    expect(s.reads()).toBe(25);
    // p24 was stored after the last clear; p0 was dropped by one.
    await s.flags.banned('p24', s.read);
    expect(s.reads()).toBe(25);
    await s.flags.banned('p0', s.read);
    expect(s.reads()).toBe(26);
  });
});

describeBackends('ban flag cache in the app', (f) => {
  it('a ban refuses the very next ticket on the same instance, and an unban allows the very next one', async () => {
    const op = await f.operator();
    const p = await f.player('cached');
    await issue(f.app, p.token); // the flag "not banned" is now cached on this instance
    expectNoGraphQLErrors(await f.app.gql(BanPlayerDocument, { player: p.id, reason: 'bot' }, op.token));
    const refused = await f.app.raw({ query: 'mutation { issueActionToken(actionType: "COMPLETE_TASK") { actionId } }' }, { token: p.token });
    expect(codes((await refused.json()) as never)).toEqual(['PLAYER_BANNED']);
    expectNoGraphQLErrors(await f.app.gql(UnbanPlayerDocument, { player: p.id, reason: 'false positive' }, op.token));
    expect((await issue(f.app, p.token)).actionType).toBe('COMPLETE_TASK');
  });
});

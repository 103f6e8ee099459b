import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './redis-server.js';

/**
 * A private PostgreSQL primary and its streaming replica, owned by the test,
 * on free loopback ports in a temp dir. The machine's own cluster is never
 * touched: its pg_hba allows no replication connections, so the primary is an
 * initdb of our own and the replica a `pg_basebackup -R` of it.
 *
 * initdb and postgres refuse to run as root: as root, they run as the
 * `postgres` OS user (the temp dir is handed to it).
 */
export class PgReplicaFixture {
  private constructor(
    readonly dir: string,
    readonly primaryPort: number,
    readonly replicaPort: number,
  ) {}

  /** The PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup), or undefined when not installed. */
  static binDir(): string | undefined {
    const root = '/usr/lib/postgresql';
    if (!existsSync(root)) return undefined;
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_basebackup')))
      .sort((a, b) => Number(b) - Number(a));
    return versions[0] && join(root, versions[0], 'bin');
  }

  static async start(): Promise<PgReplicaFixture> {
    const bin = PgReplicaFixture.binDir();
    if (!bin) throw new Error('PostgreSQL server binaries (initdb, pg_basebackup) are not installed');
    const dir = mkdtempSync(join(tmpdir(), 'scoreboard-pg-'));
    const primaryPort = await freePort();
    let replicaPort = await freePort();
    while (replicaPort === primaryPort) replicaPort = await freePort();
    const fixture = new PgReplicaFixture(dir, primaryPort, replicaPort);
    if (process.getuid?.() === 0) chownRecursive(dir, 'postgres');
    try {
      const primary = join(dir, 'primary');
      const replica = join(dir, 'replica');
      fixture.run(join(bin, 'initdb'), ['-D', primary, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
      appendFileSync(
        join(primary, 'postgresql.conf'),
        [
          `port = ${primaryPort}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${dir}'`,
          'wal_level = replica',
          'max_wal_senders = 5',
          'fsync = off',
          'full_page_writes = off',
          'shared_buffers = 32MB',
          'max_connections = 200',
          '',
        ].join('\n'),
      );
      appendFileSync(join(primary, 'pg_hba.conf'), 'host replication postgres 127.0.0.1/32 trust\n');
      fixture.run(join(bin, 'pg_ctl'), ['-D', primary, '-l', join(dir, 'primary.log'), '-w', 'start']);
      fixture.run(join(bin, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replica, '-R', '-X', 'stream', '--no-sync']);
      appendFileSync(join(replica, 'postgresql.conf'), `port = ${replicaPort}\nhot_standby = on\nwal_receiver_status_interval = 1s\n`);
      await fixture.startReplica();
    } catch (error) {
      await fixture.stop();
      throw error;
    }
    return fixture;
  }

  get primaryUrl(): string {
    return `postgresql://postgres@127.0.0.1:${this.primaryPort}/postgres`;
  }

  /** The replica's URL for a database of the primary. */
  replicaUrl(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.replicaPort}/${database}`;
  }

  /** Fast shutdown of the replica: its connections are cut, new ones refused. */
  async stopReplica() {
    this.run(join(PgReplicaFixture.binDir()!, 'pg_ctl'), ['-D', join(this.dir, 'replica'), '-m', 'fast', '-w', 'stop']);
  }

  async startReplica() {
    this.run(join(PgReplicaFixture.binDir()!, 'pg_ctl'), ['-D', join(this.dir, 'replica'), '-l', join(this.dir, 'replica.log'), '-w', 'start']);
  }

  /** Waits until the replica has replayed everything the primary has written so far. */
  async caughtUp(database = 'postgres') {
    const primary = new pg.Client({ connectionString: this.primaryUrl.replace(/\/postgres$/, `/${database}`) });
    const replica = new pg.Client({ connectionString: this.replicaUrl(database) });
    await primary.connect();
    await replica.connect();
    try {
      const { rows } = await primary.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
      for (;;) {
        const { rows: r } = await replica.query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [rows[0]!.lsn]);
        if (r[0]!.done) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await primary.end();
      await replica.end();
    }
  }

  async stop() {
    const pgCtl = join(PgReplicaFixture.binDir()!, 'pg_ctl');
    for (const node of ['replica', 'primary']) {
      if (existsSync(join(this.dir, node, 'postmaster.pid'))) {
        spawnSync(...this.as(pgCtl, ['-D', join(this.dir, node), '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore' });
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private as(cmd: string, args: string[]): [string, string[]] {
    return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  }

  private run(cmd: string, args: string[]) {
    const res = spawnSync(...this.as(cmd, args), { encoding: 'utf8', cwd: this.dir });
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.status}): ${res.stdout}${res.stderr}`);
  }
}

function chownRecursive(path: string, user: string) {
  const id = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (id.status !== 0) throw new Error(`no OS user ${user} to run PostgreSQL as`);
  chownSync(path, Number(id.stdout.trim()), Number(gid.stdout.trim()));
}

/*
 * oplock.pml -- Promela model of the DVE oplock protocol, one oplock,
 * as described in cp/cluster/PROTOCOL.md (that page is the specification;
 * this model follows it, a change to one changes the other).
 *
 * Covered: states Boot, Uninterested, Want to join, Joined, Want to share,
 * Sharing, Want to acquire, Acquired; messages join, leave, share, unshare,
 * acquire, release, ack (interested, waiting), nak; rounds (a round number
 * echoed by answers, stale answers ignored); the retry signal (release
 * received, and with -DRETRY_TIMER a bounded number of spurious retry-timer
 * firings); the per-state message table, the main loops and departures 1-4.
 * The transport: one FIFO, reliable channel per ordered pair of nodes.
 *
 * Not covered (see README.md): message loss, crashes, timeouts, eviction,
 * leases, fencing, caretakers; the restrictive flag and unrestrictive
 * updates (dirty / old_dirty / purge-from-old-dirty: every update here is
 * restrictive, written through, so old_dirty is always false); non-volatile
 * oplocks (owner record, journals, recent owner added to the share set).
 *
 * Properties, asserted after every atomic step (so in every reachable state):
 *   (a) mutual exclusion: at most one node in Acquired;
 *   (b) no stale cache: a valid cache holds the current version, a cache is
 *       valid only in Sharing / Want to acquire / Acquired, and while a node
 *       is in Acquired no other node holds a valid cache;
 *   (c) no deadlock: a node may block only at the label end_idle, which it
 *       reaches only in Uninterested, Joined or Sharing; a node left waiting
 *       in Want to join / Want to share / Want to acquire (or Acquired) when
 *       nothing else can move is an invalid end state (pan -q also demands
 *       empty channels).
 *   Also: channels never overflow (assert before every send), and a round
 *   number fits its 4 bits (rounds are counted exactly, they never wrap).
 *
 * Bounds, so that the state space is finite: each node may go
 * Uninterested -> Want to join MAXJOIN times, Joined -> Want to share
 * MAXSHARE times, Sharing -> Want to acquire MAXACQ times (only nodes
 * 0..ACQNODES-1), and retry (start a new round on a retry signal) MAXRETRY
 * times. A node that would retry once more sets `pruned`: that run is cut
 * (every node stops in a loop that is no end state, so the cut run is
 * neither an error nor a pass; safety was checked up to the cut). Without
 * the retry bound a retry storm (see README.md) grows the channels without
 * limit while one node is slow.
 *
 * Knobs (-D on the spin command line):
 *   N           number of nodes, 2..4 (default 3)
 *   MAXJOIN, MAXSHARE, MAXACQ, MAXRETRY, ACQNODES   as above
 *               (defaults 1, 1, 1, 2, N)
 *   RETRY_TIMER enable the retry timer: while waiting for a retry a node may
 *               retry on its own, at most MAXTIMER times (default 1)
 *   QSZ         channel capacity (default 4; check.sh uses 8)
 *   NO_BOOT     start every node Uninterested, already in jlist
 * Deliberate bugs for the mutation self-check:
 *   BUG_NO_RESTART  Want to share acks an acquire and carries on (the
 *                   pseudo-code; removes departure 1)
 *   BUG_NO_PURGE    Sharing acks an acquire but keeps its cache and stays
 *                   in Sharing
 *   BUG_NO_NAKD_RELEASE  Acquired releases to alist only (removes
 *                   departure 2; a refused sharer is never woken)
 */

#ifndef N
#define N 3
#endif
#ifndef MAXJOIN
#define MAXJOIN 1
#endif
#ifndef MAXSHARE
#define MAXSHARE 1
#endif
#ifndef MAXACQ
#define MAXACQ 1
#endif
#ifndef ACQNODES
#define ACQNODES N        /* only nodes 0..ACQNODES-1 ever want to update */
#endif
#ifndef MAXTIMER
#define MAXTIMER 1
#endif
#ifndef QSZ
#define QSZ 4
#endif
#ifndef MAXRETRY
#define MAXRETRY 2        /* retries (new rounds on a retry signal) per node */
#endif

/* states */
#define BOOT     0
#define UNINT    1
#define WJOIN    2
#define JOINED   3
#define WSHARE   4
#define SHARING  5
#define WACQ     6
#define ACQUIRED 7

/* message types */
#define M_JOIN    0
#define M_LEAVE   1
#define M_SHARE   2
#define M_UNSHARE 3
#define M_ACQUIRE 4
#define M_RELEASE 5
#define M_ACK     6
#define M_NAK     7

#define M_ACK_NI   8      /* on the wire only: ack, not interested */
#define M_ACK_WAIT 9      /* on the wire only: ack, waiting */

/* a message is one byte: kind(4) round(4); the ack's flags (interested,
   waiting) are folded into the kind */
#define KIND(t, a, w) ((t) == M_ACK -> ((a) == 0 -> M_ACK_NI : ((w) -> M_ACK_WAIT : M_ACK)) : (t))
#define ENC(t, r, a, w) ((KIND(t, a, w) << 4) | (r))
#define BIT(x) (1 << (x))
#define HAS(set, x) ((((set) >> (x)) & 1) == 1)

/* q[i*N+j]: the channel from node i to node j (the diagonal is unused) */
chan q[N*N] = [QSZ] of { byte };

bool pruned;           /* a node ran out of retries: this run is cut */
byte version;          /* the metadata in the storehouse */
#ifdef NO_BOOT                /* every node starts booted: Uninterested */
byte jlist = ((1 << N) - 1);  /* global jlist (bitmask), under jlock */
byte st[N] = UNINT;           /* protocol state */
#else
byte jlist;            /* global jlist (bitmask), under jlock */
byte st[N];            /* protocol state */
#endif

byte slist[N];         /* joined peers (bitmask) */
byte alist[N];         /* sharing peers (bitmask) */
byte rnd[N];           /* rounds started so far = the current round's
                          number (1..MAXROUNDS, never wraps) */
bool inround[N];        /* a round is in progress (else, in Want to share /
                          Want to acquire: waiting for a retry) */
byte rset[N];          /* the round's set: recipients less self */
byte awaitm[N];        /* the nodes still awaited in the round */
byte remem[N];         /* nak'd meanwhile / acked 'waiting': get the release */
bool cvalid[N];        /* cache valid */
byte cver[N];          /* cached version */
byte njoin[N];         /* bounded nondeterminism: operations done */
byte nshare[N];
byte nacq[N];
byte nretry[N];
#ifdef RETRY_TIMER
byte ntimer[N];
#endif

/* scratch, only used inside one atomic step (never across a blocking
   point), hence not part of the state vector */
hidden byte m, mt, mr, ma, mw, k, c, c2;
hidden byte cur;

#define STABLE(i) (st[i] == UNINT || st[i] == JOINED || st[i] == SHARING)

inline send(i, j, t, r, a, w) {
  assert(nfull(q[(i)*N + (j)]));        /* no overflow, never blocks */
  q[(i)*N + (j)]!ENC(t, r, a, w)
}

/* async broadcast of t to every node of set but self (k is the index) */
inline bcast(i, set, t) {
  k = 0;
  do
  :: k < N ->
     if
     :: k != i && HAS(set, k) -> send(i, k, t, 0, 0, 0)
     :: else
     fi;
     k++
  :: else -> break
  od
}

/* The invariants, checked after every step. */
inline inv() {
  c = 0; c2 = 0;
  do
  :: c < N ->
     if :: st[c] == ACQUIRED -> c2++ :: else fi;
     assert(!cvalid[c] || cver[c] == version);
     assert(!cvalid[c] || st[c] == SHARING || st[c] == WACQ || st[c] == ACQUIRED);
     c++
  :: else -> break
  od;
  assert(c2 <= 1);                       /* (a) mutual exclusion */
  c = 0;
  do
  :: c < N ->
     if
     :: st[c] == ACQUIRED ->             /* (b) no one else caches */
        c2 = 0;
        do
        :: c2 < N -> assert(c2 == c || !cvalid[c2]); c2++
        :: else -> break
        od
     :: else
     fi;
     c++
  :: else -> break
  od
}

inline start_round(i, set, t) {
  rnd[i]++;
  assert(rnd[i] < 16);                  /* fits the message's 4 bits */
  rset[i] = (set) & (~BIT(i));
  awaitm[i] = rset[i];
  inround[i] = 1;
  k = 0;
  do
  :: k < N ->
     if
     :: HAS(rset[i], k) -> send(i, k, t, rnd[i], 0, 0)
     :: else
     fi;
     k++
  :: else -> break
  od
}

/* end the round without completing it: the answers still awaited become
   stale; async t (unshare / release) to the round's set */
inline abort_round(i, t) {
  bcast(i, rset[i], t);
  inround[i] = 0; awaitm[i] = 0; rset[i] = 0
}

/* every awaited node answered (or no one to await) */
inline complete(i) {
  inround[i] = 0; rset[i] = 0;
  if
  :: st[i] == WJOIN -> st[i] = JOINED
  :: st[i] == WSHARE -> st[i] = SHARING; cvalid[i] = 1; cver[i] = version
  :: st[i] == WACQ ->
     st[i] = ACQUIRED;
     /* purge (if purged, or purge): re-read before use */
     if :: !cvalid[i] -> cvalid[i] = 1; cver[i] = version :: else fi
  fi
}

inline maybe_complete(i) {
  if :: inround[i] && awaitm[i] == 0 -> complete(i) :: else fi
}

/* a retry: new round of the same kind */
inline retry(i) {
  if
  :: nretry[i] >= MAXRETRY -> pruned = 1    /* out of the bound: cut */
  :: else ->
     nretry[i]++;
     if
     :: st[i] == WSHARE -> start_round(i, slist[i], M_SHARE)
     :: st[i] == WACQ -> start_round(i, alist[i], M_ACQUIRE) /* purge = false */
     fi;
     maybe_complete(i)
  fi
}

inline answer(i, j) {
  cur = (inround[i] && mr == rnd[i] && HAS(awaitm[i], j));
  if
  :: cur ->
     awaitm[i] = awaitm[i] & (~BIT(j));
     if
     :: st[i] == WJOIN ->
        if :: mt == M_ACK -> slist[i] = slist[i] | BIT(j) :: else fi
     :: st[i] == WSHARE ->
        if
        :: mt == M_NAK -> abort_round(i, M_UNSHARE)    /* wait for a retry */
        :: else -> if :: ma -> alist[i] = alist[i] | BIT(j) :: else fi
        fi
     :: st[i] == WACQ ->
        if
        :: mt == M_NAK -> abort_round(i, M_RELEASE)    /* wait for a retry */
        :: else -> if :: mw -> remem[i] = remem[i] | BIT(j) :: else fi
        fi
     fi;
     maybe_complete(i)
  :: else                                           /* stale: ignored */
  fi
}

inline acquire_rcv(i, j) {
  if
  :: st[i] == BOOT || st[i] == UNINT -> send(i, j, M_ACK, mr, 0, 0)  /* not interested */
  :: st[i] == WJOIN || st[i] == JOINED -> send(i, j, M_ACK, mr, 1, 0)
  :: st[i] == WSHARE ->
#ifdef BUG_NO_RESTART
     send(i, j, M_ACK, mr, 1, 0)                 /* pseudo-code: carry on */
#else
     /* departure 1: the round restarts; the ack says waiting */
     if :: inround[i] -> abort_round(i, M_UNSHARE) :: else fi;
     send(i, j, M_ACK, mr, 1, 1)
#endif
  :: st[i] == SHARING ->
#ifdef BUG_NO_PURGE
     send(i, j, M_ACK, mr, 1, 0)                 /* keeps its cache */
#else
     cvalid[i] = 0;                              /* let the cache go */
     bcast(i, alist[i], M_UNSHARE);
     send(i, j, M_ACK, mr, 1, 0);                /* old dirty: false */
     st[i] = JOINED
#endif
  :: st[i] == WACQ ->
     if
     :: j < i ->                                 /* preempted (departure 4) */
        if :: inround[i] -> abort_round(i, M_RELEASE) :: else fi;
        cvalid[i] = 0;                           /* purge */
        send(i, j, M_ACK, mr, 1, 0)              /* wait for a retry */
     :: else ->
        send(i, j, M_NAK, mr, 0, 0);
        remem[i] = remem[i] | BIT(j)
     fi
  :: st[i] == ACQUIRED ->
     send(i, j, M_NAK, mr, 0, 0);
     remem[i] = remem[i] | BIT(j)
  fi
}

inline handle(i, j) {
  mt = m >> 4; mr = m & 15; ma = (mt != M_ACK_NI); mw = (mt == M_ACK_WAIT);
  if :: mt >= M_ACK_NI -> mt = M_ACK :: else fi;
  printf("T node %d in %d receives %d from %d round %d interested %d waiting %d\n", i, st[i], mt, j, mr, ma, mw);
  if
  :: mt == M_ACK || mt == M_NAK -> answer(i, j)
  :: mt == M_JOIN ->
     if
     :: st[i] == BOOT || st[i] == UNINT -> send(i, j, M_NAK, mr, 0, 0)
     :: else -> slist[i] = slist[i] | BIT(j); send(i, j, M_ACK, mr, 1, 0)
     fi
  :: mt == M_LEAVE ->
     if :: st[i] > UNINT -> slist[i] = slist[i] & (~BIT(j)) :: else fi
  :: mt == M_SHARE ->
     if
     :: st[i] == BOOT || st[i] == UNINT -> send(i, j, M_ACK, mr, 0, 0) /* not interested (dep. 3) */
     :: st[i] == WACQ || st[i] == ACQUIRED ->
        send(i, j, M_NAK, mr, 0, 0);
        remem[i] = remem[i] | BIT(j)
     :: else -> alist[i] = alist[i] | BIT(j); send(i, j, M_ACK, mr, 1, 0)
     fi
  :: mt == M_UNSHARE ->
     if :: st[i] > UNINT -> alist[i] = alist[i] & (~BIT(j)) :: else fi
  :: mt == M_ACQUIRE -> acquire_rcv(i, j)
  :: mt == M_RELEASE ->
     if
     :: (st[i] == WSHARE || st[i] == WACQ) && !inround[i] -> retry(i)
     :: else                           /* not waiting: nothing to retry */
     fi
  fi;
  m = 0; mt = 0; mr = 0; ma = 0; mw = 0
}

/* after every step: check, then block at end_idle only in a stable state */
#define TRACE printf("T node %d now %d inround %d await %d slist %d alist %d remem %d cache %d/%d version %d\n", i, st[i], inround[i], awaitm[i], slist[i], alist[i], remem[i], cvalid[i], cver[i], version)
#define NEXT  TRACE; inv() }; if :: STABLE(i) -> goto end_idle :: else -> goto busy fi

#define RECV(J) :: atomic { !pruned && nempty(q[(J)*N + i]) -> d_step { q[(J)*N + i]?m; handle(i, J); NEXT }

inline steps(i) {
  if
  RECV(0)
  RECV(1)
#if N > 2
  RECV(2)
#endif
#if N > 3
  RECV(3)
#endif
  /* the run was cut (a node ran out of rounds): stop here, no end state */
  :: pruned -> goto cut
  /* Boot: add self to jlist under jlock */
  :: atomic { !pruned && st[i] == BOOT -> d_step { jlist = jlist | BIT(i); st[i] = UNINT; NEXT }
  /* Uninterested, on need */
  :: atomic { !pruned && st[i] == UNINT && njoin[i] < MAXJOIN -> d_step {
       njoin[i]++; slist[i] = 0; alist[i] = 0; st[i] = WJOIN;
       start_round(i, jlist, M_JOIN); maybe_complete(i); NEXT }
  /* Joined, need to cache */
  :: atomic { !pruned && st[i] == JOINED && nshare[i] < MAXSHARE -> d_step {
       nshare[i]++; st[i] = WSHARE;
       start_round(i, slist[i], M_SHARE); maybe_complete(i); NEXT }
  /* Joined, no longer needed */
  :: atomic { !pruned && st[i] == JOINED -> d_step {
       bcast(i, slist[i], M_LEAVE); st[i] = UNINT; NEXT }
  /* Sharing, need to update */
  :: atomic { !pruned && st[i] == SHARING && i < ACQNODES && nacq[i] < MAXACQ -> d_step {
       nacq[i]++; st[i] = WACQ;
       start_round(i, alist[i], M_ACQUIRE); maybe_complete(i); NEXT }
  /* Sharing, no longer needed */
  :: atomic { !pruned && st[i] == SHARING -> d_step {
       cvalid[i] = 0; bcast(i, alist[i], M_UNSHARE); st[i] = JOINED; NEXT }
  /* Acquired: update (restrictive), release, Sharing */
  :: atomic { !pruned && st[i] == ACQUIRED -> d_step {
       assert(cvalid[i] && cver[i] == version);
       version++; cver[i] = version;
#ifdef BUG_NO_NAKD_RELEASE
       bcast(i, alist[i], M_RELEASE);
#else
       bcast(i, alist[i] | remem[i], M_RELEASE);   /* departure 2 */
#endif
       remem[i] = 0; st[i] = SHARING; NEXT }
#ifdef RETRY_TIMER
  /* the retry timer expires while waiting for a retry */
  :: atomic { !pruned && (st[i] == WSHARE || st[i] == WACQ) && !inround[i] && ntimer[i] < MAXTIMER -> d_step {
       ntimer[i]++; retry(i); NEXT }
#endif
  fi
}

active [N] proctype node()
{
  byte i = _pid;
  goto busy;
end_idle:
  steps(i);
busy:
  steps(i);
cut:
  do :: pruned -> skip od  /* no end state: the cut run is not judged */
}

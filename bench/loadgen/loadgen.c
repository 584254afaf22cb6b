/*
 * wsx benchmark load generator.
 *
 * A single-threaded, epoll-driven, non-blocking WebSocket (RFC 6455) client
 * written for the side-by-side benchmark in bench/. It performs the client
 * opening handshake itself (and checks Sec-WebSocket-Accept), masks every
 * frame it sends, and verifies every byte it receives: each echoed message
 * must come back on the same connection, in order, with the same opcode,
 * length and content, and the number of echoes must equal the number of
 * messages sent. Any deviation aborts the run with {"ok":false,...}.
 *
 * Modes:
 *   echo       N connections, each keeping K messages in flight (ws or raw)
 *   handshake  open+handshake+close T connections, C at a time
 *   idle       open N connections, print READY, hold until stdin says go
 *   broadcast  open N connections; conn 0 sends "broadcast:..." text and
 *              every connection must receive that exact text once per round
 *
 * proto=raw speaks no WebSocket at all: it sends the same number of bytes
 * per message a WebSocket client would send (frame header + mask + payload)
 * and expects them echoed back verbatim (the ceiling for a Node server).
 *
 * Output: one JSON object on stdout (idle mode prints "READY ..." first).
 * Build: cc -O2 -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* configuration                                                        */

enum { MODE_ECHO, MODE_HANDSHAKE, MODE_IDLE, MODE_BROADCAST };
enum { PROTO_WS, PROTO_RAW };

static struct {
  const char *host;
  int port;
  int mode;
  int proto;
  int conns;       /* echo/idle/broadcast: connections */
  int inflight;    /* echo: messages in flight per connection */
  size_t size;     /* echo: payload bytes per message */
  int text;        /* echo: send text (multi-byte UTF-8) instead of binary */
  int separate;    /* echo: one write() per frame, as a client that does not batch its sends */
  double warmup;   /* echo: seconds before the measured window */
  double duration; /* echo: measured window, seconds */
  int total;       /* handshake: measured connections */
  int warm_total;  /* handshake: unmeasured warm-up connections */
  int concurrency; /* connections being opened at once */
  int rounds;      /* broadcast: measured rounds */
  int warm_rounds; /* broadcast: unmeasured rounds */
  int payload;     /* broadcast: trigger/payload length (<=125) */
  int pid;         /* server pid for CPU accounting (0 = none) */
  double hold;     /* idle: max seconds to hold connections */
  double timeout;  /* overall safety limit, seconds */
  const char *path;
} cfg = {
    .host = "127.0.0.1",
    .port = 0,
    .mode = MODE_ECHO,
    .proto = PROTO_WS,
    .conns = 100,
    .inflight = 1,
    .size = 32,
    .text = 0,
    .separate = 0,
    .warmup = 1.0,
    .duration = 3.0,
    .total = 20000,
    .warm_total = -1,
    .concurrency = 200,
    .rounds = 20,
    .warm_rounds = 3,
    .payload = 64,
    .pid = 0,
    .hold = 120.0,
    .timeout = 300.0,
    .path = "/bench",
};

/* ------------------------------------------------------------------ */
/* utilities                                                            */

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *p = msg; *p; p++)
    if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) *p = '\'';
  printf("{\"ok\":false,\"error\":\"%s\"}\n", msg);
  fflush(stdout);
  fprintf(stderr, "loadgen: %s\n", msg);
  exit(2);
}

static uint64_t rng_state;
static uint64_t rng(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static double self_cpu_sec(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec / 1e6;
}

/* utime+stime (seconds) and minor page faults of a process (all threads) from /proc/PID/stat;
   -1 in both if unknown */
static void proc_usage(int pid, double *cpu_sec, double *minflt) {
  *cpu_sec = -1;
  *minflt = -1;
  if (pid <= 0) return;
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* comm may contain spaces */
  if (!p) return;
  p++;
  /* after ')' : field 3 (state) is token 0; minflt (10) is token 7; utime (14) token 11; stime (15) token 12 */
  unsigned long long mf = 0, ut = 0, st = 0;
  int tok = -1;
  char *save = NULL;
  for (char *t = strtok_r(p, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    tok++;
    if (tok == 7) mf = strtoull(t, NULL, 10);
    if (tok == 11) ut = strtoull(t, NULL, 10);
    if (tok == 12) {
      st = strtoull(t, NULL, 10);
      break;
    }
  }
  if (tok < 12) return;
  *cpu_sec = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
  *minflt = (double)mf;
}

/* busy time of the whole machine (all CPUs: user, nice, system, steal) from /proc/stat, seconds */
static double machine_busy_sec(void) {
  char buf[512];
  int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  unsigned long long v[8] = {0};
  /* cpu user nice system idle iowait irq softirq steal */
  if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
             &v[6], &v[7]) < 8)
    return -1;
  /* irq and softirq are left out: on loopback they are mostly this benchmark's own traffic
     (softirq work deferred to ksoftirqd would otherwise look like "other" load) */
  unsigned long long busy = v[0] + v[1] + v[2] + v[7];
  return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

/* ------------------------------------------------------------------ */
/* SHA-1 (FIPS 180-4) and base64, for the opening handshake             */

static uint32_t rol32(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

static void sha1_block(uint32_t h[5], const uint8_t *p) {
  uint32_t w[80];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
           (uint32_t)p[4 * i + 3];
  for (int i = 16; i < 80; i++) w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999u;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1u;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDCu;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6u;
    }
    uint32_t t = rol32(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rol32(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

static void sha1(const uint8_t *data, size_t len, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  size_t i = 0;
  for (; i + 64 <= len; i += 64) sha1_block(h, data + i);
  uint8_t tail[128];
  size_t rem = len - i;
  memset(tail, 0, sizeof tail);
  memcpy(tail, data + i, rem);
  tail[rem] = 0x80;
  size_t tl = rem + 1 + 8 <= 64 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int j = 0; j < 8; j++) tail[tl - 1 - j] = (uint8_t)(bits >> (8 * j));
  sha1_block(h, tail);
  if (tl == 128) sha1_block(h, tail + 64);
  for (int j = 0; j < 5; j++) {
    out[4 * j] = (uint8_t)(h[j] >> 24);
    out[4 * j + 1] = (uint8_t)(h[j] >> 16);
    out[4 * j + 2] = (uint8_t)(h[j] >> 8);
    out[4 * j + 3] = (uint8_t)h[j];
  }
}

static void base64(const uint8_t *in, size_t len, char *out) {
  static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < len) v |= in[i + 2];
    out[o++] = tb[(v >> 18) & 63];
    out[o++] = tb[(v >> 12) & 63];
    out[o++] = i + 1 < len ? tb[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < len ? tb[v & 63] : '=';
  }
  out[o] = 0;
}

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static void accept_for_key(const char *key, char out[29]) {
  char buf[128];
  size_t kl = strlen(key);
  memcpy(buf, key, kl);
  memcpy(buf + kl, WS_GUID, sizeof WS_GUID - 1);
  uint8_t dig[20];
  sha1((const uint8_t *)buf, kl + sizeof WS_GUID - 1, dig);
  base64(dig, 20, out);
}

/* ------------------------------------------------------------------ */
/* payload tables                                                       */

#define NVAR 4  /* body variants, chosen by sequence number */
#define NKEY 4  /* masking keys, chosen at random per frame */

static size_t hdr_len;          /* per-message header: 8 bytes binary, 16 hex chars text */
static size_t msg_len;          /* bytes per message on the wire payload (ws) or stream chunk (raw) */
static uint8_t *body[NVAR];     /* plaintext body variants, length msg_len - hdr_len */
static uint8_t *mbody[NVAR][NKEY]; /* the same, pre-masked with keys[k] (ws only) */
static uint8_t keys[NKEY][4];

static const char *const uchars[] = {
    "\xc3\xa9",         /* e acute, 2 bytes */
    "\xd0\xb6",         /* cyrillic zhe, 2 bytes */
    "\xe2\x82\xac",     /* euro sign, 3 bytes */
    "\xe4\xb8\xad",     /* CJK, 3 bytes */
    "\xf0\x9f\x98\x80", /* emoji, 4 bytes */
    "\xc3\xbc",         /* u umlaut, 2 bytes */
    "\xe2\x86\x92",     /* arrow, 3 bytes */
    "\xf0\x9d\x84\x9e", /* G clef, 4 bytes */
};
#define NUCHARS (sizeof uchars / sizeof uchars[0])

static void fill_text(uint8_t *out, size_t len, int variant) {
  size_t pos = 0, i = (size_t)variant * 3;
  while (pos < len) {
    const char *s = uchars[i % NUCHARS];
    size_t l = strlen(s);
    if (pos + l > len) {
      out[pos] = (uint8_t)('a' + (pos % 26)); /* ASCII tail keeps it valid UTF-8 */
      pos++;
      continue;
    }
    memcpy(out + pos, s, l);
    pos += l;
    i += 1 + (size_t)variant;
  }
}

static void make_msghdr(uint8_t *out, uint32_t id, uint32_t seq) {
  if (hdr_len == 16) {
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)hx[(id >> (28 - 4 * i)) & 15];
    for (int i = 0; i < 8; i++) out[8 + i] = (uint8_t)hx[(seq >> (28 - 4 * i)) & 15];
  } else {
    memcpy(out, &id, 4);
    memcpy(out + 4, &seq, 4);
  }
}

static size_t ws_client_frame_len(size_t payload) {
  return payload + 4 + (payload < 126 ? 2 : payload < 65536 ? 4 : 10);
}

static void setup_tables(void) {
  hdr_len = cfg.text && cfg.proto == PROTO_WS ? 16 : 8;
  msg_len = cfg.proto == PROTO_RAW ? ws_client_frame_len(cfg.size) : cfg.size;
  if (msg_len < hdr_len) fail("size too small (min %zu)", hdr_len);
  size_t bl = msg_len - hdr_len;
  for (int k = 0; k < NKEY; k++) {
    uint64_t r = rng();
    memcpy(keys[k], &r, 4);
  }
  for (int v = 0; v < NVAR; v++) {
    body[v] = malloc(bl + 1);
    if (!body[v]) fail("out of memory");
    if (cfg.text && cfg.proto == PROTO_WS) {
      fill_text(body[v], bl, v);
    } else {
      for (size_t i = 0; i < bl; i++) body[v][i] = (uint8_t)(rng() >> 24);
    }
    if (cfg.proto == PROTO_WS) {
      for (int k = 0; k < NKEY; k++) {
        mbody[v][k] = malloc(bl + 1);
        if (!mbody[v][k]) fail("out of memory");
        /* hdr_len is a multiple of 4, so body byte i has mask index i & 3 */
        for (size_t i = 0; i < bl; i++) mbody[v][k][i] = body[v][i] ^ keys[k][i & 3];
      }
    }
  }
}

/* ------------------------------------------------------------------ */
/* connections                                                          */

enum { ST_FREE, ST_CONNECTING, ST_HS, ST_OPEN, ST_CLOSING };

#define INL 144 /* inline bytes per queued item: frame header + message header, control frames */
typedef struct item {
  const uint8_t *ext; /* external bytes sent after the inline ones (not owned) */
  size_t elen;
  size_t off; /* bytes of (inline + ext) already written */
  uint16_t ilen;
  uint8_t inl[INL];
} item;

typedef struct conn {
  int fd;
  uint32_t id;
  uint32_t gen;
  int state;
  uint32_t evmask;
  item *q;
  int qcap, qhead, qn;
  char *hs; /* [0,256) request, [256,HSBUF) response */
  int hs_reqlen, hs_have;
  char accept[32];
  uint32_t send_seq, recv_seq;
  int inflight;
  /* frame parser */
  uint8_t fh[14];
  int fh_have, fh_need; /* fh_need == 0: inside a payload */
  uint64_t pay_rem;
  int fop, ffin;
  int in_msg, mop;
  uint64_t msg_off;
  uint8_t ctl[128];
  int ctl_len;
  int got_close;
} conn;

#define HSBUF 2048
#define HSRESP 256

static conn *conns;
static int nslots;
static int ep;
static struct sockaddr_in addr;
static uint8_t *rbuf;
#define RBUF (256 * 1024)

/* global progress */
static long long g_opened, g_started, g_completed; /* connections */
static long long g_msgs, g_bytes;                 /* verified echoes / deliveries */
static long long g_inflight;
static int g_stopping;
static long long g_round_delivered;
static int g_round;
static char g_trigger[128];
static int g_trigger_len;

static void conn_fail(conn *c, const char *what) {
  fail("conn %u: %s (sent %u, received %u)", c->id, what, c->send_seq, c->recv_seq);
}

static void set_mask(conn *c) {
  uint32_t want = EPOLLIN | ((c->qn > 0 || c->state == ST_CONNECTING) ? EPOLLOUT : 0);
  if (want == c->evmask) return;
  struct epoll_event ev = {.events = want, .data.u64 = ((uint64_t)c->gen << 32) | (uint32_t)(c - conns)};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) fail("epoll_ctl mod: %s", strerror(errno));
  c->evmask = want;
}

static item *q_push(conn *c) {
  if (c->qn == c->qcap) conn_fail(c, "send queue overflow");
  item *it = &c->q[(c->qhead + c->qn) % c->qcap];
  c->qn++;
  it->ext = NULL;
  it->elen = 0;
  it->off = 0;
  it->ilen = 0;
  return it;
}

static void flush_now(conn *c) {
  while (c->qn > 0) {
    struct iovec iov[128];
    int ni = 0;
    /* --separate-writes: one frame per system call, so every frame reaches the server as its
       own TCP segment unless the server is slower than the client */
    int items = cfg.separate ? 1 : c->qn;
    for (int i = 0; i < items && ni < 126; i++) {
      item *it = &c->q[(c->qhead + i) % c->qcap];
      size_t off = it->off;
      if (off < it->ilen) {
        iov[ni].iov_base = it->inl + off;
        iov[ni].iov_len = it->ilen - off;
        ni++;
        off = 0;
      } else {
        off -= it->ilen;
      }
      if (it->elen > off) {
        iov[ni].iov_base = (void *)(it->ext + off);
        iov[ni].iov_len = it->elen - off;
        ni++;
      }
    }
    ssize_t n = writev(c->fd, iov, ni);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || (errno == ENOTCONN && c->state == ST_HS)) break;
      if (errno == EINTR) continue;
      conn_fail(c, strerror(errno));
    }
    size_t left = (size_t)n;
    while (left > 0 && c->qn > 0) {
      item *it = &c->q[c->qhead];
      size_t rem = it->ilen + it->elen - it->off;
      if (left >= rem) {
        left -= rem;
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qn--;
      } else {
        it->off += left;
        left = 0;
      }
    }
  }
}

static void flush(conn *c) {
  flush_now(c);
  set_mask(c);
}

/* client frame header into out; returns its length (includes the 4-byte key) */
static size_t frame_header(uint8_t *out, int opcode, size_t len, const uint8_t key[4]) {
  size_t h;
  out[0] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    out[1] = (uint8_t)(0x80 | len);
    h = 2;
  } else if (len < 65536) {
    out[1] = 0x80 | 126;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    h = 4;
  } else {
    out[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    h = 10;
  }
  memcpy(out + h, key, 4);
  return h + 4;
}

/* small masked frame (control frames, broadcast trigger) built entirely inline */
static void send_small_frame(conn *c, int opcode, const uint8_t *payload, size_t len) {
  if (len > 125) conn_fail(c, "small frame too long");
  item *it = q_push(c);
  uint64_t r = rng();
  uint8_t key[4];
  memcpy(key, &r, 4);
  size_t h = frame_header(it->inl, opcode, len, key);
  for (size_t i = 0; i < len; i++) it->inl[h + i] = payload[i] ^ key[i & 3];
  it->ilen = (uint16_t)(h + len);
}

/* queue the next echo message of this connection */
static void send_msg(conn *c) {
  uint32_t seq = c->send_seq++;
  int v = (int)(seq % NVAR);
  item *it = q_push(c);
  uint8_t mh[16];
  make_msghdr(mh, c->id, seq);
  if (cfg.proto == PROTO_WS) {
    int k = (int)(rng() % NKEY);
    size_t h = frame_header(it->inl, cfg.text ? 1 : 2, msg_len, keys[k]);
    for (size_t i = 0; i < hdr_len; i++) it->inl[h + i] = mh[i] ^ keys[k][i & 3];
    it->ilen = (uint16_t)(h + hdr_len);
    it->ext = mbody[v][k];
  } else {
    memcpy(it->inl, mh, hdr_len);
    it->ilen = (uint16_t)hdr_len;
    it->ext = body[v];
  }
  it->elen = msg_len - hdr_len;
  c->inflight++;
  g_inflight++;
}

/* compare received bytes with message (c->id, seq) at offset off */
static void verify_echo(conn *c, uint32_t seq, uint64_t off, const uint8_t *p, size_t m) {
  if (off + m > msg_len) conn_fail(c, "echoed message longer than sent");
  if (off < hdr_len) {
    uint8_t mh[16];
    make_msghdr(mh, c->id, seq);
    size_t k = hdr_len - off;
    if (k > m) k = m;
    if (memcmp(p, mh + off, k) != 0) conn_fail(c, "echo header mismatch (wrong message, order or content)");
    p += k;
    m -= k;
    off += k;
  }
  if (m > 0 && memcmp(p, body[seq % NVAR] + (off - hdr_len), m) != 0)
    conn_fail(c, "echo body content mismatch");
}

static void start_connect(conn *c);
static void start_round(void);

static void close_fd_hard(conn *c) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(c->fd);
}

static void release(conn *c) {
  close(c->fd);
  c->fd = -1;
  c->state = ST_FREE;
  c->gen++;
  free(c->hs);
  c->hs = NULL;
}

/* a connection finished its open handshake */
static void on_open(conn *c) {
  c->state = ST_OPEN;
  g_opened++;
  c->fh_have = 0;
  c->fh_need = 2;
  if (cfg.mode == MODE_HANDSHAKE) {
    if (cfg.proto == PROTO_WS) {
      uint8_t code[2] = {0x03, 0xe8}; /* 1000 */
      send_small_frame(c, 8, code, 2);
      c->state = ST_CLOSING;
    }
  } else if (c->hs) {
    free(c->hs);
    c->hs = NULL;
  }
}

static void ws_msg_start(conn *c, int op) {
  c->in_msg = 1;
  c->mop = op;
  c->msg_off = 0;
  if (cfg.mode == MODE_ECHO) {
    if (c->recv_seq == c->send_seq) conn_fail(c, "received a message that was never sent");
    if (op != (cfg.text ? 1 : 2)) conn_fail(c, "echo has wrong opcode");
  } else if (cfg.mode == MODE_BROADCAST) {
    if (op != 1) conn_fail(c, "broadcast message is not text");
    if (c->recv_seq != (uint32_t)g_round) conn_fail(c, "broadcast received twice or out of round");
  } else {
    conn_fail(c, "unexpected data message");
  }
}

static void ws_msg_data(conn *c, const uint8_t *p, size_t m) {
  if (cfg.mode == MODE_ECHO) {
    verify_echo(c, c->recv_seq, c->msg_off, p, m);
  } else {
    if (c->msg_off + m > (uint64_t)g_trigger_len) conn_fail(c, "broadcast payload too long");
    if (memcmp(p, g_trigger + c->msg_off, m) != 0) conn_fail(c, "broadcast payload mismatch");
  }
  c->msg_off += m;
}

static void echo_done(conn *c) {
  c->recv_seq++;
  c->inflight--;
  g_inflight--;
  g_msgs++;
  g_bytes += (long long)cfg.size;
  if (!g_stopping) send_msg(c);
}

static void ws_msg_end(conn *c) {
  c->in_msg = 0;
  if (cfg.mode == MODE_ECHO) {
    if (c->msg_off != msg_len) conn_fail(c, "echoed message shorter than sent");
    echo_done(c);
  } else {
    if (c->msg_off != (uint64_t)g_trigger_len) conn_fail(c, "broadcast payload too short");
    c->recv_seq++;
    g_msgs++;
    g_round_delivered++;
  }
}

static void ws_frame_begin(conn *c) {
  uint8_t b0 = c->fh[0], b1 = c->fh[1];
  if (b0 & 0x70) conn_fail(c, "RSV bits set");
  if (b1 & 0x80) conn_fail(c, "server frame is masked");
  int op = b0 & 0x0f;
  uint64_t len = b1 & 0x7f;
  if (len == 126) {
    len = (uint64_t)c->fh[2] << 8 | c->fh[3];
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; i++) len = len << 8 | c->fh[2 + i];
  }
  c->fop = op;
  c->ffin = b0 & 0x80;
  if (op >= 8) {
    if (!c->ffin || len > 125) conn_fail(c, "bad control frame");
    if (op != 8 && op != 9 && op != 10) conn_fail(c, "reserved control opcode");
    c->ctl_len = 0;
  } else if (op == 1 || op == 2) {
    if (c->in_msg) conn_fail(c, "new message inside a fragmented one");
    ws_msg_start(c, op);
  } else if (op == 0) {
    if (!c->in_msg) conn_fail(c, "continuation without a message");
  } else {
    conn_fail(c, "reserved data opcode");
  }
  c->pay_rem = len;
  c->fh_need = 0;
}

static void ws_frame_end(conn *c) {
  c->fh_have = 0;
  c->fh_need = 2;
  if (c->fop == 9) {
    send_small_frame(c, 10, c->ctl, (size_t)c->ctl_len);
  } else if (c->fop == 8) {
    int code = c->ctl_len >= 2 ? (c->ctl[0] << 8 | c->ctl[1]) : 1005;
    if (c->state != ST_CLOSING) {
      char msg[64];
      snprintf(msg, sizeof msg, "server sent close frame (code %d)", code);
      conn_fail(c, msg);
    }
    if (code != 1000 && code != 1005) conn_fail(c, "server close code not 1000");
    c->got_close = 1;
  } else if (c->fop < 8 && c->ffin) {
    ws_msg_end(c);
  }
}

static void ws_feed(conn *c, const uint8_t *p, size_t n) {
  while (n > 0) {
    if (c->state == ST_CLOSING && c->got_close) conn_fail(c, "data after close frame");
    if (c->fh_need) {
      while (n > 0 && c->fh_have < c->fh_need) {
        c->fh[c->fh_have++] = *p++;
        n--;
        if (c->fh_have == 2) {
          int l7 = c->fh[1] & 0x7f;
          c->fh_need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
        }
      }
      if (c->fh_have < c->fh_need) return;
      ws_frame_begin(c);
      if (c->pay_rem == 0) ws_frame_end(c);
      continue;
    }
    size_t m = n < c->pay_rem ? n : (size_t)c->pay_rem;
    if (c->fop >= 8) {
      memcpy(c->ctl + c->ctl_len, p, m);
      c->ctl_len += (int)m;
    } else {
      ws_msg_data(c, p, m);
    }
    p += m;
    n -= m;
    c->pay_rem -= m;
    if (c->pay_rem == 0) ws_frame_end(c);
  }
}

static void raw_feed(conn *c, const uint8_t *p, size_t n) {
  if (cfg.mode != MODE_ECHO) conn_fail(c, "unexpected bytes");
  while (n > 0) {
    if (c->msg_off == 0 && c->recv_seq == c->send_seq) conn_fail(c, "received bytes that were never sent");
    size_t m = msg_len - c->msg_off;
    if (m > n) m = n;
    verify_echo(c, c->recv_seq, c->msg_off, p, m);
    c->msg_off += m;
    p += m;
    n -= m;
    if (c->msg_off == msg_len) {
      c->msg_off = 0;
      echo_done(c);
    }
  }
}

/* opening handshake response (ws), or echo of the request (raw, handshake mode) */
static void hs_feed(conn *c, const uint8_t *p, size_t n) {
  char *resp = c->hs + HSRESP;
  if (cfg.proto == PROTO_RAW) {
    if ((size_t)c->hs_have + n > (size_t)c->hs_reqlen) conn_fail(c, "raw echo longer than request");
    if (memcmp(p, c->hs + c->hs_have, n) != 0) conn_fail(c, "raw echo mismatch");
    c->hs_have += (int)n;
    if (c->hs_have == c->hs_reqlen) {
      on_open(c);
      if (cfg.mode == MODE_IDLE) return; /* held open, as an upgraded connection is */
      shutdown(c->fd, SHUT_WR);
      c->state = ST_CLOSING;
      c->got_close = 1;
    }
    return;
  }
  size_t room = HSBUF - HSRESP - 1 - (size_t)c->hs_have;
  size_t take = n < room ? n : room;
  memcpy(resp + c->hs_have, p, take);
  int old = c->hs_have;
  c->hs_have += (int)take;
  resp[c->hs_have] = 0;
  char *end = strstr(resp, "\r\n\r\n");
  if (!end) {
    if (take < n || c->hs_have >= HSBUF - HSRESP - 1) conn_fail(c, "handshake response too long");
    return;
  }
  size_t hlen = (size_t)(end - resp) + 4;
  if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
    char *eol = strstr(resp, "\r\n");
    if (eol) *eol = 0;
    char msg[160];
    snprintf(msg, sizeof msg, "handshake refused: %.100s", resp);
    conn_fail(c, msg);
  }
  /* find Sec-WebSocket-Accept (case-insensitive header name) */
  const char *acc = NULL;
  for (char *line = strstr(resp, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, "sec-websocket-accept:", 21) == 0) {
      acc = line + 2 + 21;
      while (*acc == ' ' || *acc == '\t') acc++;
      break;
    }
  }
  if (!acc) conn_fail(c, "no Sec-WebSocket-Accept");
  if (strncmp(acc, c->accept, 28) != 0 || (acc[28] != '\r' && acc[28] != ' ' && acc[28] != '\t'))
    conn_fail(c, "wrong Sec-WebSocket-Accept");
  on_open(c);
  /* bytes after the header block belong to the frame stream */
  size_t used = hlen - (size_t)old;
  if (used < n) ws_feed(c, p + used, n - used);
}

static void on_eof(conn *c) {
  if (c->state == ST_CLOSING && c->got_close) {
    if (c->in_msg || c->fh_have) conn_fail(c, "EOF inside a frame");
    release(c);
    g_completed++;
    return;
  }
  conn_fail(c, "server closed the connection");
}

static void on_readable(conn *c) {
  for (int i = 0; i < 16; i++) {
    ssize_t n = read(c->fd, rbuf, RBUF);
    if (n > 0) {
      if (c->state == ST_HS)
        hs_feed(c, rbuf, (size_t)n);
      else if (cfg.proto == PROTO_WS)
        ws_feed(c, rbuf, (size_t)n);
      else if (c->state == ST_CLOSING)
        conn_fail(c, "bytes after raw echo");
      else
        raw_feed(c, rbuf, (size_t)n);
      if (n < RBUF) return;
      continue;
    }
    if (n == 0) {
      on_eof(c);
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET && c->state == ST_CLOSING && c->got_close) {
      /* peer reset after a completed close handshake: count as closed */
      release(c);
      g_completed++;
      return;
    }
    conn_fail(c, strerror(errno));
  }
}

static void on_connected(conn *c) {
  c->state = ST_HS;
  c->hs_have = 0;
  /* Raw idle connections also wait for their request's echo: a connection counts once the
     server has accepted and read it, so --concurrency bounds the burst for every server alike
     (counted at connect(), a burst overflows the accept queue and the kernel's SYN retries
     spread it over seconds). */
  if (cfg.proto == PROTO_RAW && cfg.mode != MODE_HANDSHAKE && cfg.mode != MODE_IDLE) {
    on_open(c);
    return;
  }
  /* the request: a WebSocket upgrade; raw mode sends the same bytes and expects them back */
  uint8_t nonce[16];
  for (int i = 0; i < 16; i += 8) {
    uint64_t r = rng();
    memcpy(nonce + i, &r, 8);
  }
  char key[32];
  base64(nonce, 16, key);
  accept_for_key(key, c->accept);
  int len = snprintf(c->hs, HSRESP,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     cfg.path, cfg.host, cfg.port, key);
  if (len <= 0 || len >= HSRESP) fail("request too long");
  c->hs_reqlen = len;
  item *it = q_push(c);
  it->ext = (const uint8_t *)c->hs;
  it->elen = (size_t)len;
}

static void start_connect(conn *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket: %s (raise ulimit -n)", strerror(errno));
  if (cfg.mode != MODE_HANDSHAKE) { /* handshake mode writes once per direction: Nagle never waits */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  memset(&c->fh, 0, sizeof c->fh);
  c->fd = fd;
  c->state = ST_CONNECTING;
  c->qhead = c->qn = 0;
  c->send_seq = c->recv_seq = 0;
  c->inflight = 0;
  c->fh_have = 0;
  c->fh_need = 2;
  c->in_msg = 0;
  c->msg_off = 0;
  c->got_close = 0;
  c->hs_have = 0;
  c->hs = malloc(HSBUF);
  if (!c->hs) fail("out of memory");
  g_started++;
  int r = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  if (r < 0 && errno != EINPROGRESS) fail("connect: %s", strerror(errno));
  c->evmask = EPOLLIN | EPOLLOUT;
  if (cfg.proto == PROTO_WS || cfg.mode == MODE_HANDSHAKE) {
    /* Queue the request and try to write it now: on loopback the connection is usually
       established inside connect(); if not, writev says EAGAIN and EPOLLOUT finishes the job.
       A failed connect shows up as an error on the first read or write. */
    on_connected(c);
    flush_now(c);
    c->evmask = EPOLLIN | (c->qn > 0 ? EPOLLOUT : 0);
  }
  struct epoll_event ev = {.events = c->evmask, .data.u64 = ((uint64_t)c->gen << 32) | (uint32_t)(c - conns)};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) fail("epoll_ctl add: %s", strerror(errno));
}

static void handle_event(struct epoll_event *ev) {
  uint32_t idx = (uint32_t)ev->data.u64;
  uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
  if (idx >= (uint32_t)nslots) return;
  conn *c = &conns[idx];
  if (c->state == ST_FREE || c->gen != gen) return; /* stale event for a recycled slot */
  if (c->state == ST_CONNECTING) {
    if (!(ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) fail("connect to %s:%d failed: %s", cfg.host, cfg.port, strerror(err));
    on_connected(c);
  }
  if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    on_readable(c);
    if (c->state == ST_FREE || c->gen != gen) return;
  }
  if (c->qn > 0)
    flush(c);
  else
    set_mask(c);
}

/* ------------------------------------------------------------------ */
/* driver                                                               */

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen --port=P [--mode=echo|handshake|idle|broadcast] [--proto=ws|raw]\n"
          "  [--conns=N] [--inflight=K] [--size=BYTES] [--text] [--separate-writes] [--warmup=S] [--duration=S]\n"
          "  [--total=N] [--warm-total=N] [--concurrency=N] [--rounds=N] [--warm-rounds=N]\n"
          "  [--payload=BYTES] [--pid=SERVER_PID] [--hold=S] [--timeout=S] [--path=/p] [--selftest]\n");
  exit(64);
}

static int selftest(void) {
  char out[29];
  accept_for_key("dGhlIHNhbXBsZSBub25jZQ==", out); /* RFC 6455 section 1.3 example */
  int ok = strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0;
  uint8_t d[20];
  sha1((const uint8_t *)"abc", 3, d);
  ok = ok && d[0] == 0xa9 && d[1] == 0x99 && d[19] == 0x9d;
  char big[200];
  memset(big, 'a', sizeof big);
  sha1((const uint8_t *)big, 56, d); /* two-block padding path */
  printf("{\"ok\":%s,\"accept\":\"%s\"}\n", ok ? "true" : "false", out);
  return ok ? 0 : 1;
}

typedef struct {
  double t, self_cpu, srv_cpu, srv_minflt, busy;
  long long msgs, bytes, completed;
} snap;

static snap take_snap(void) {
  snap s = {now_sec(), self_cpu_sec(), 0, 0, machine_busy_sec(), g_msgs, g_bytes, g_completed};
  proc_usage(cfg.pid, &s.srv_cpu, &s.srv_minflt);
  return s;
}

/* CPU figures of a window, as JSON members: server, generator, and the rest of the machine */
static void print_cpu(const snap *a, const snap *b) {
  double secs = b->t - a->t;
  double srv = cfg.pid && a->srv_cpu >= 0 && b->srv_cpu >= 0 ? (b->srv_cpu - a->srv_cpu) : -1;
  double gen = b->self_cpu - a->self_cpu;
  double other = a->busy >= 0 && b->busy >= 0 ? (b->busy - a->busy) - gen - (srv > 0 ? srv : 0) : -1;
  if (other < 0 && a->busy >= 0) other = 0;
  double faults = cfg.pid && a->srv_minflt >= 0 && b->srv_minflt >= 0 ? b->srv_minflt - a->srv_minflt : -1;
  printf("\"server_cpu_pct\":%.2f,\"gen_cpu_pct\":%.2f,\"other_cpu_pct\":%.2f,\"server_minor_faults\":%.0f}\n",
         srv >= 0 ? srv / secs * 100 : -1.0, gen / secs * 100, other >= 0 ? other / secs * 100 : -1.0, faults);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void start_round(void) {
  g_round_delivered = 0;
  g_trigger_len = snprintf(g_trigger, sizeof g_trigger, "broadcast:%08d:", g_round);
  while (g_trigger_len < cfg.payload) {
    g_trigger[g_trigger_len] = (char)('A' + (g_trigger_len + g_round) % 26);
    g_trigger_len++;
  }
  g_trigger[g_trigger_len] = 0;
  send_small_frame(&conns[0], 1, (const uint8_t *)g_trigger, (size_t)g_trigger_len);
  flush(&conns[0]);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = strchr(a, '=');
    v = v ? v + 1 : "";
#define OPT(name) (strncmp(a, "--" name "=", strlen("--" name "=")) == 0)
    if (strcmp(a, "--selftest") == 0) return selftest();
    if (strcmp(a, "--text") == 0) cfg.text = 1;
    else if (strcmp(a, "--separate-writes") == 0) cfg.separate = 1;
    else if (OPT("host")) cfg.host = v;
    else if (OPT("port")) cfg.port = atoi(v);
    else if (OPT("mode")) {
      if (!strcmp(v, "echo")) cfg.mode = MODE_ECHO;
      else if (!strcmp(v, "handshake")) cfg.mode = MODE_HANDSHAKE;
      else if (!strcmp(v, "idle")) cfg.mode = MODE_IDLE;
      else if (!strcmp(v, "broadcast")) cfg.mode = MODE_BROADCAST;
      else usage();
    } else if (OPT("proto")) {
      if (!strcmp(v, "ws")) cfg.proto = PROTO_WS;
      else if (!strcmp(v, "raw")) cfg.proto = PROTO_RAW;
      else usage();
    } else if (OPT("conns")) cfg.conns = atoi(v);
    else if (OPT("inflight")) cfg.inflight = atoi(v);
    else if (OPT("size")) cfg.size = (size_t)strtoull(v, NULL, 10);
    else if (OPT("warmup")) cfg.warmup = atof(v);
    else if (OPT("duration")) cfg.duration = atof(v);
    else if (OPT("total")) cfg.total = atoi(v);
    else if (OPT("warm-total")) cfg.warm_total = atoi(v);
    else if (OPT("concurrency")) cfg.concurrency = atoi(v);
    else if (OPT("rounds")) cfg.rounds = atoi(v);
    else if (OPT("warm-rounds")) cfg.warm_rounds = atoi(v);
    else if (OPT("payload")) cfg.payload = atoi(v);
    else if (OPT("pid")) cfg.pid = atoi(v);
    else if (OPT("hold")) cfg.hold = atof(v);
    else if (OPT("timeout")) cfg.timeout = atof(v);
    else if (OPT("path")) cfg.path = v;
    else usage();
#undef OPT
  }
  if (cfg.port <= 0 || cfg.conns <= 0 || cfg.inflight <= 0 || cfg.concurrency <= 0) usage();
  if (cfg.mode == MODE_BROADCAST && cfg.proto != PROTO_WS) fail("broadcast needs --proto=ws");
  if (cfg.payload < 24 || cfg.payload > 125) fail("--payload must be 24..125");
  if (cfg.warm_total < 0) cfg.warm_total = cfg.total / 10;
  if (cfg.rounds <= 0 || cfg.total <= 0) usage();

  signal(SIGPIPE, SIG_IGN);
  rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 8; i++) rng();

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)cfg.port);
  if (inet_pton(AF_INET, cfg.host, &addr.sin_addr) != 1) fail("bad --host (IPv4 literal needed)");
  if ((ntohl(addr.sin_addr.s_addr) >> 24) != 127) fail("refusing non-loopback host %s", cfg.host);

  if (cfg.mode == MODE_ECHO) setup_tables();

  nslots = cfg.mode == MODE_HANDSHAKE ? cfg.concurrency : cfg.conns;
  conns = calloc((size_t)nslots, sizeof(conn));
  rbuf = malloc(RBUF);
  if (!conns || !rbuf) fail("out of memory");
  int qcap = cfg.mode == MODE_ECHO ? cfg.inflight * 2 + 4 : 6;
  for (int i = 0; i < nslots; i++) {
    conns[i].id = (uint32_t)i;
    conns[i].fd = -1;
    conns[i].qcap = qcap;
    conns[i].q = malloc(sizeof(item) * (size_t)qcap);
    if (!conns[i].q) fail("out of memory");
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) fail("epoll_create1: %s", strerror(errno));

#define MAXEV 1024
  static struct epoll_event evs[MAXEV];
  double t_begin = now_sec();
  double deadline = t_begin + cfg.timeout;
  double connect_secs = 0;

  /* ---------------- handshake mode ---------------- */
  if (cfg.mode == MODE_HANDSHAKE) {
    long long goal = (long long)cfg.warm_total + cfg.total;
    snap s0 = {0}, s1;
    int have_s0 = cfg.warm_total == 0;
    if (have_s0) s0 = take_snap();
    int next_slot = 0;
    for (;;) {
      /* keep the pipeline full */
      long long active = g_started - g_completed;
      while (active < cfg.concurrency && g_started < goal) {
        int tries = 0;
        while (conns[next_slot].state != ST_FREE) {
          next_slot = (next_slot + 1) % nslots;
          if (++tries > nslots) fail("no free slot");
        }
        start_connect(&conns[next_slot]);
        active++;
      }
      int n = epoll_wait(ep, evs, MAXEV, 100);
      if (n < 0 && errno != EINTR) fail("epoll_wait: %s", strerror(errno));
      for (int i = 0; i < n; i++) handle_event(&evs[i]);
      if (!have_s0 && g_completed >= cfg.warm_total) {
        s0 = take_snap();
        have_s0 = 1;
      }
      if (g_completed >= goal) break;
      if (now_sec() > deadline)
        fail("handshake run timed out (%lld of %lld connections done)", g_completed, goal);
    }
    s1 = take_snap();
    double secs = s1.t - s0.t;
    long long done = s1.completed - s0.completed;
    printf("{\"ok\":true,\"mode\":\"handshake\",\"proto\":\"%s\",\"connections\":%lld,\"seconds\":%.6f,"
           "\"per_sec\":%.3f,\"concurrency\":%d,\"warm\":%d,\"verified\":%lld,",
           cfg.proto == PROTO_WS ? "ws" : "raw", done, secs, (double)done / secs, cfg.concurrency,
           cfg.warm_total, g_completed);
    print_cpu(&s0, &s1);
    return 0;
  }

  /* ---------------- connect phase (echo / idle / broadcast) ---------------- */
  {
    int next = 0;
    while (g_opened < cfg.conns) {
      while (next < cfg.conns && g_started - g_opened < cfg.concurrency) start_connect(&conns[next++]);
      int n = epoll_wait(ep, evs, MAXEV, 100);
      if (n < 0 && errno != EINTR) fail("epoll_wait: %s", strerror(errno));
      for (int i = 0; i < n; i++) handle_event(&evs[i]);
      if (now_sec() > deadline) fail("connect phase timed out (%lld of %d open)", g_opened, cfg.conns);
    }
    connect_secs = now_sec() - t_begin;
  }

  /* ---------------- idle mode ---------------- */
  if (cfg.mode == MODE_IDLE) {
    printf("READY %lld\n", g_opened);
    fflush(stdout);
    struct epoll_event sev = {.events = EPOLLIN, .data.u64 = 0xffffffffu};
    int have_stdin = epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev) == 0;
    double until = now_sec() + cfg.hold;
    int go = 0;
    while (!go && now_sec() < until) {
      int n = epoll_wait(ep, evs, MAXEV, 100);
      if (n < 0 && errno != EINTR) fail("epoll_wait: %s", strerror(errno));
      for (int i = 0; i < n; i++) {
        if (have_stdin && evs[i].data.u64 == 0xffffffffu) {
          go = 1;
          continue;
        }
        handle_event(&evs[i]);
      }
    }
    /* every connection must still be there */
    long long alive = 0;
    for (int i = 0; i < nslots; i++) alive += conns[i].state == ST_OPEN;
    if (alive != cfg.conns) fail("only %lld of %d idle connections still open", alive, cfg.conns);
    for (int i = 0; i < nslots; i++) close_fd_hard(&conns[i]);
    printf("{\"ok\":true,\"mode\":\"idle\",\"proto\":\"%s\",\"connections\":%lld,\"connect_seconds\":%.4f,"
           "\"released_by\":\"%s\"}\n",
           cfg.proto == PROTO_WS ? "ws" : "raw", alive, connect_secs, go ? "stdin" : "hold-timeout");
    return 0;
  }

  /* ---------------- broadcast mode ---------------- */
  if (cfg.mode == MODE_BROADCAST) {
    int total_rounds = cfg.warm_rounds + cfg.rounds;
    double *rt = calloc((size_t)cfg.rounds, sizeof(double));
    snap s0 = {0}, s1;
    for (g_round = 0; g_round < total_rounds; g_round++) {
      if (g_round == cfg.warm_rounds) s0 = take_snap();
      double t0 = now_sec();
      start_round();
      while (g_round_delivered < cfg.conns) {
        int n = epoll_wait(ep, evs, MAXEV, 100);
        if (n < 0 && errno != EINTR) fail("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) handle_event(&evs[i]);
        if (now_sec() > deadline)
          fail("broadcast round %d timed out (%lld of %d delivered)", g_round, g_round_delivered, cfg.conns);
      }
      if (g_round >= cfg.warm_rounds) rt[g_round - cfg.warm_rounds] = now_sec() - t0;
    }
    s1 = take_snap();
    /* every connection got exactly one message per round */
    for (int i = 0; i < nslots; i++)
      if (conns[i].recv_seq != (uint32_t)total_rounds) conn_fail(&conns[i], "missed a broadcast");
    double secs = s1.t - s0.t;
    double sum = 0;
    for (int i = 0; i < cfg.rounds; i++) sum += rt[i];
    qsort(rt, (size_t)cfg.rounds, sizeof(double), cmp_double);
    long long delivered = (long long)cfg.conns * cfg.rounds;
    for (int i = 0; i < nslots; i++) close_fd_hard(&conns[i]);
    printf("{\"ok\":true,\"mode\":\"broadcast\",\"connections\":%d,\"rounds\":%d,\"delivered\":%lld,"
           "\"seconds\":%.6f,\"per_sec\":%.3f,\"round_ms_median\":%.3f,\"round_ms_min\":%.3f,"
           "\"round_ms_max\":%.3f,\"verified\":%lld,\"connect_seconds\":%.4f,",
           cfg.conns, cfg.rounds, delivered, secs, (double)delivered / sum, rt[cfg.rounds / 2] * 1000,
           rt[0] * 1000, rt[cfg.rounds - 1] * 1000, g_msgs, connect_secs);
    print_cpu(&s0, &s1);
    return 0;
  }

  /* ---------------- echo mode ---------------- */
  for (int i = 0; i < nslots; i++) {
    for (int k = 0; k < cfg.inflight; k++) send_msg(&conns[i]);
    flush(&conns[i]);
  }
  double t_warm_end = now_sec() + cfg.warmup;
  double t_end = 0;
  snap s0 = {0}, s1 = {0};
  int phase = 0; /* 0 warmup, 1 measuring, 2 draining */
  double drain_deadline = 0;
  for (;;) {
    int n = epoll_wait(ep, evs, MAXEV, phase == 2 ? 50 : 5);
    if (n < 0 && errno != EINTR) fail("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) handle_event(&evs[i]);
    double t = now_sec();
    if (phase == 0 && t >= t_warm_end) {
      s0 = take_snap();
      t_end = s0.t + cfg.duration;
      phase = 1;
    } else if (phase == 1 && t >= t_end) {
      s1 = take_snap();
      g_stopping = 1;
      phase = 2;
      drain_deadline = t + 30 + (double)cfg.size * cfg.conns * cfg.inflight / 50e6;
    } else if (phase == 2) {
      if (g_inflight == 0) break;
      if (t > drain_deadline) fail("%lld echoes never arrived", g_inflight);
    }
    if (t > deadline + cfg.warmup + cfg.duration) fail("echo run timed out");
  }
  /* count check: every message sent on every connection came back */
  long long sent = 0, recvd = 0;
  for (int i = 0; i < nslots; i++) {
    if (conns[i].send_seq != conns[i].recv_seq) conn_fail(&conns[i], "echo count mismatch");
    sent += conns[i].send_seq;
    recvd += conns[i].recv_seq;
  }
  if (sent != recvd || recvd != g_msgs) fail("echo totals mismatch");
  for (int i = 0; i < nslots; i++) close_fd_hard(&conns[i]);
  double secs = s1.t - s0.t;
  long long msgs = s1.msgs - s0.msgs;
  long long bytes = s1.bytes - s0.bytes;
  printf("{\"ok\":true,\"mode\":\"echo\",\"proto\":\"%s\",\"conns\":%d,\"inflight\":%d,\"size\":%zu,"
         "\"text\":%s,\"wire_msg_bytes\":%zu,\"messages\":%lld,\"bytes\":%lld,\"seconds\":%.6f,"
         "\"per_sec\":%.3f,\"bytes_per_sec\":%.3f,\"verified\":%lld,\"connect_seconds\":%.4f,",
         cfg.proto == PROTO_WS ? "ws" : "raw", cfg.conns, cfg.inflight, cfg.size, cfg.text ? "true" : "false",
         msg_len, msgs, bytes, secs, (double)msgs / secs, (double)bytes / secs, recvd, connect_secs);
  print_cpu(&s0, &s1);
  return 0;
}

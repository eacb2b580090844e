/*
 * The echo benchmark's load generator in C: raw TCP clients on one epoll loop that keep a fixed
 * number of messages in flight per connection, mask every frame with a fresh key, and check
 * every byte of every echo. It costs the load side a small fraction of what the Node load
 * generator does, so that the server under test, not the load, sets the rate.
 *
 *   cc -O2 -o dist/load-generator-c src/load-generator.c
 *   dist/load-generator-c PORT CONNECTIONS SIZE WINDOW SECONDS
 *
 * Prints one JSON line, like load-generator.ts: messages, seconds, messagesPerSecond,
 * cpuShare, and p50/p99 round trips in microseconds when WINDOW is 1 (after each connection's
 * first 3 round trips). Exits 1 with a message on stderr if an echo differs from what was sent.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WARM_UP_ROUND_TRIPS 3
#define READ_BUFFER (256 * 1024)

typedef struct {
  int fd;
  /* Frames written but not yet taken by the kernel. */
  uint8_t *out;
  size_t out_length, out_capacity, out_offset;
  /* The echo being read: header bytes gathered, the frame's payload bytes still to come, the
     message's bytes so far (a server may send it in fragments), whether this frame ends it. */
  uint8_t header[10];
  int header_length, header_needed, final_frame, in_message;
  uint64_t payload_left, payload_seen;
  uint64_t sent, echoed;
  double *sent_at; /* ring of send times, window long */
} Connection;

static size_t size, window;
static uint64_t random_state = 0x9e3779b97f4a7c15ull;

static uint32_t next_random(void) {
  random_state ^= random_state << 13;
  random_state ^= random_state >> 7;
  random_state ^= random_state << 17;
  return (uint32_t)random_state;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what) {
  fprintf(stderr, "load-generator-c: %s: %s\n", what, strerror(errno));
  exit(1);
}

/*
 * Byte `index` of message `sequence` is (sequence * 31 + index) mod 256: what the echo must carry
 * back. Every message is then a window of one ramp (ramp[j] = j mod 256), so building a frame is a
 * memcpy and a word-wide XOR, and checking an echo is a memcmp: at 1 MiB, byte-by-byte loops made
 * this generator, not the server, the bottleneck.
 */
static uint8_t *ramp;

static inline const uint8_t *payload_of(uint64_t sequence) {
  return ramp + (uint8_t)(sequence * 31);
}

/* XORs `length` bytes with the 4-byte key repeating from `data`'s first byte, 8 bytes at a time. */
static void apply_mask(uint8_t *data, size_t length, const uint8_t key[4]) {
  uint64_t word;
  uint8_t doubled[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
  memcpy(&word, doubled, 8);
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t chunk;
    memcpy(&chunk, data + i, 8);
    chunk ^= word;
    memcpy(data + i, &chunk, 8);
  }
  for (; i < length; i++) data[i] ^= key[i & 3];
}

/* Appends one masked binary frame (a fresh key) carrying message `sent` to the output. */
static void queue_frame(Connection *c) {
  size_t header = size <= 125 ? 2 : size <= 0xffff ? 4 : 10;
  size_t need = c->out_length + header + 4 + size;
  if (need > c->out_capacity) {
    c->out_capacity = need * 2;
    c->out = realloc(c->out, c->out_capacity);
  }
  uint8_t *frame = c->out + c->out_length;
  frame[0] = 0x82;
  if (size <= 125) {
    frame[1] = 0x80 | (uint8_t)size;
  } else if (size <= 0xffff) {
    frame[1] = 0x80 | 126;
    frame[2] = (uint8_t)(size >> 8);
    frame[3] = (uint8_t)size;
  } else {
    frame[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) frame[2 + i] = (uint8_t)((uint64_t)size >> (56 - 8 * i));
  }
  uint32_t key = next_random();
  uint8_t *mask = frame + header;
  memcpy(mask, &key, 4);
  uint8_t *payload = mask + 4;
  memcpy(payload, payload_of(c->sent), size);
  apply_mask(payload, size, mask);
  c->sent_at[c->sent % window] = now();
  c->sent++;
  c->out_length = need;
}

/* Writes what the kernel takes; returns whether output is left over (wait for EPOLLOUT). */
static int flush(Connection *c) {
  while (c->out_offset < c->out_length) {
    ssize_t written = write(c->fd, c->out + c->out_offset, c->out_length - c->out_offset);
    if (written < 0) {
      if (errno == EAGAIN) return 1;
      fail("write");
    }
    c->out_offset += (size_t)written;
  }
  c->out_offset = c->out_length = 0;
  return 0;
}

static int connect_and_upgrade(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("socket");
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const char *request =
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (write(fd, request, strlen(request)) < 0) fail("write the upgrade request");
  /* Read the response byte by byte: nothing after its blank line may be taken from the stream. */
  char tail[4] = {0};
  for (;;) {
    char byte;
    if (read(fd, &byte, 1) != 1) fail("read the upgrade response");
    memmove(tail, tail + 1, 3);
    tail[3] = byte;
    if (memcmp(tail, "\r\n\r\n", 4) == 0) break;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: load-generator-c PORT CONNECTIONS SIZE WINDOW SECONDS\n");
    return 2;
  }
  int port = atoi(argv[1]);
  size_t count = (size_t)atol(argv[2]);
  size = (size_t)atol(argv[3]);
  window = (size_t)atol(argv[4]);
  double seconds = atof(argv[5]);
  random_state ^= (uint64_t)getpid() << 32 | (uint64_t)time(NULL);
  ramp = malloc(size + 256);
  if (ramp == NULL) fail("allocate the payload ramp");
  for (size_t j = 0; j < size + 256; j++) ramp[j] = (uint8_t)j;

  int epoll = epoll_create1(0);
  Connection *connections = calloc(count, sizeof *connections);
  for (size_t i = 0; i < count; i++) {
    Connection *c = &connections[i];
    c->fd = connect_and_upgrade(port);
    c->header_needed = 2;
    c->sent_at = calloc(window, sizeof(double));
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event);
  }

  size_t latency_capacity = window == 1 ? 1 << 20 : 0, latency_count = 0;
  double *latencies = latency_capacity ? malloc(latency_capacity * sizeof(double)) : NULL;
  struct rusage usage_before, usage_after;
  getrusage(RUSAGE_SELF, &usage_before);
  double started = now(), deadline = started + seconds;
  uint64_t messages = 0;
  for (size_t i = 0; i < count; i++) {
    Connection *c = &connections[i];
    for (size_t w = 0; w < window; w++) queue_frame(c);
    if (flush(c)) {
      struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
      epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
    }
  }

  static uint8_t buffer[READ_BUFFER];
  struct epoll_event events[256];
  double finished = started;
  while ((finished = now()) < deadline) {
    int ready = epoll_wait(epoll, events, 256, 100);
    for (int e = 0; e < ready; e++) {
      Connection *c = events[e].data.ptr;
      if (events[e].events & EPOLLOUT && !flush(c)) {
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
      }
      if (!(events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t got = read(c->fd, buffer, sizeof buffer);
      if (got == 0) {
        fprintf(stderr, "load-generator-c: the server closed a connection\n");
        return 1;
      }
      if (got < 0) {
        if (errno == EAGAIN) continue;
        fail("read");
      }
      int completed = 0;
      for (ssize_t at = 0; at < got;) {
        if (c->payload_left == 0 && c->header_length < c->header_needed) {
          c->header[c->header_length++] = buffer[at++];
          if (c->header_length == 2) {
            /* A whole binary message (0x82), or its first fragment (0x02) and continuations (0x00, 0x80). */
            uint8_t opcode = c->header[0] & 0x0f;
            int valid = (c->header[0] & 0x70) == 0 && !(c->header[1] & 0x80) && (opcode == 2 ? !c->in_message : opcode == 0 && c->in_message);
            if (!valid) {
              fprintf(stderr, "load-generator-c: unexpected frame header %02x %02x\n", c->header[0], c->header[1]);
              return 1;
            }
            uint8_t length = c->header[1] & 0x7f;
            c->header_needed = length < 126 ? 2 : length == 126 ? 4 : 10;
          }
          if (c->header_length < c->header_needed) continue;
          uint64_t length = c->header[1] & 0x7f;
          if (length == 126) length = (uint64_t)c->header[2] << 8 | c->header[3];
          if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; i++) length = length << 8 | c->header[2 + i];
          }
          c->final_frame = (c->header[0] & 0x80) != 0;
          c->in_message = 1;
          if (c->payload_seen + length > size || (c->final_frame && c->payload_seen + length != size)) {
            fprintf(stderr, "load-generator-c: an echo of %llu bytes, %zu sent\n", (unsigned long long)(c->payload_seen + length), size);
            return 1;
          }
          c->payload_left = length;
          if (length > 0) continue;
        }
        uint64_t take = (uint64_t)(got - at) < c->payload_left ? (uint64_t)(got - at) : c->payload_left;
        const uint8_t *expected = payload_of(c->echoed) + c->payload_seen;
        if (memcmp(buffer + at, expected, take) != 0) {
          uint64_t i = 0;
          while (buffer[at + i] == expected[i]) i++;
          fprintf(stderr, "load-generator-c: byte %llu of echo %llu differs\n", (unsigned long long)(c->payload_seen + i),
                  (unsigned long long)c->echoed);
          return 1;
        }
        at += (ssize_t)take;
        c->payload_seen += take;
        c->payload_left -= take;
        if (c->payload_left == 0) {
          c->header_length = 0;
          c->header_needed = 2;
          if (!c->final_frame) continue;
          c->in_message = 0;
          c->payload_seen = 0;
          if (latencies && c->echoed >= WARM_UP_ROUND_TRIPS && latency_count < latency_capacity) {
            latencies[latency_count++] = now() - c->sent_at[c->echoed % window];
          }
          c->echoed++;
          messages++;
          completed++;
        }
      }
      if (completed > 0) {
        int pending = c->out_length > 0;
        for (int k = 0; k < completed; k++) queue_frame(c);
        if (!pending && flush(c)) {
          struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
          epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
        }
      }
    }
  }
  getrusage(RUSAGE_SELF, &usage_after);
  double elapsed = finished - started;
  double cpu = (usage_after.ru_utime.tv_sec - usage_before.ru_utime.tv_sec) + (usage_after.ru_utime.tv_usec - usage_before.ru_utime.tv_usec) / 1e6 +
               (usage_after.ru_stime.tv_sec - usage_before.ru_stime.tv_sec) + (usage_after.ru_stime.tv_usec - usage_before.ru_stime.tv_usec) / 1e6;
  printf("{\"messages\":%llu,\"seconds\":%.6f,\"messagesPerSecond\":%.1f,\"cpuShare\":%.4f", (unsigned long long)messages, elapsed,
         messages / elapsed, cpu / elapsed);
  if (latency_count > 0) {
    qsort(latencies, latency_count, sizeof(double), compare_doubles);
    printf(",\"p50\":%.3f,\"p99\":%.3f", latencies[latency_count / 2] * 1e6, latencies[(size_t)(latency_count * 0.99)] * 1e6);
  }
  printf("}\n");
  return 0;
}

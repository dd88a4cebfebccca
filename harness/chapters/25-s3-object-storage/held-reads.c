// SOS-F4's read gate, preloaded into the target (LD_PRELOAD) for one step: while the gate's ".catch" file exists, a
// read of a file under SDGRADE_HELD_READS_DIR made by any thread but the process's main one (an I/O pool's: Node's
// libuv, a Go runtime's, a Java executor's) is caught and waits before it starts, until the file named by
// SDGRADE_HELD_READS_GATE is gone. Each read so held adds a byte to the gate's ".held" file, so the harness knows
// when they wait. The harness removes ".catch" once the GETs' reads are held, before it asks for the compaction: the
// compaction's own reads, on whatever thread, pass (holding them would stall a correct target). Reads on the main
// thread, and every other file, pass at once. Built by held-reads.ts; inert when the two variables are not set.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int under_dir(int fd) {
  const char *dir = getenv("SDGRADE_HELD_READS_DIR");
  if (!dir || !*dir) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = 0;
  size_t d = strlen(dir);
  return strncmp(path, dir, d) == 0 && path[d] == '/';
}

static void gate(int fd) {
  const char *g = getenv("SDGRADE_HELD_READS_GATE");
  if (!g || !*g || syscall(SYS_gettid) == getpid()) return;
  char catching[4096], held[4096];
  snprintf(catching, sizeof catching, "%s.catch", g);
  if (access(catching, F_OK) != 0 || !under_dir(fd)) return;
  snprintf(held, sizeof held, "%s.held", g);
  int h = open(held, O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (h >= 0) {
    (void)!write(h, "r", 1);
    close(h);
  }
  while (access(g, F_OK) == 0) usleep(1000);
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t read(int fd, void *buf, size_t n) {
  gate(fd);
  return NEXT(read)(fd, buf, n);
}
ssize_t pread(int fd, void *buf, size_t n, off_t at) {
  gate(fd);
  return NEXT(pread)(fd, buf, n, at);
}
ssize_t pread64(int fd, void *buf, size_t n, off_t at) {
  gate(fd);
  return NEXT(pread64)(fd, buf, n, at);
}
ssize_t readv(int fd, const struct iovec *v, int k) {
  gate(fd);
  return NEXT(readv)(fd, v, k);
}
ssize_t preadv(int fd, const struct iovec *v, int k, off_t at) {
  gate(fd);
  return NEXT(preadv)(fd, v, k, at);
}
ssize_t preadv64(int fd, const struct iovec *v, int k, off_t at) {
  gate(fd);
  return NEXT(preadv64)(fd, v, k, at);
}
ssize_t preadv2(int fd, const struct iovec *v, int k, off_t at, int flags) {
  gate(fd);
  return NEXT(preadv2)(fd, v, k, at, flags);
}

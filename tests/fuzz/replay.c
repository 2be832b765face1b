/* Replays every file of the given corpus directories through the fuzz target. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_dir(const char *dir)
{
  cleanup_dir DIR *d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "replay: cannot open %s\n", dir);
    return -1;
  }
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    cleanup_free char *path = xasprintf("%s/%s", dir, de->d_name);
    cleanup_free char *buf = NULL;
    size_t len = 0;
    berth_error_t err = NULL;
    if (berth_read_file(path, 0, &buf, &len, &err) < 0) {
      fprintf(stderr, "replay: %s\n", err->msg);
      berth_error_release(&err);
      return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *) buf, len);
    n++;
  }
  printf("replayed %d inputs from %s\n", n, dir);
  return n > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (replay_dir(argv[i]) < 0)
      return 1;
  return 0;
}

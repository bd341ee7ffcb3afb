/* tfevent: TensorBoard event records (see tfevent.h). */
#include "tfevent.h"

#include <string.h>

uint32_t rd_crc32c(uint32_t crc, const void *data, size_t n) {
  static uint32_t table[256];
  static int ready;
  if (!ready) { /* byte-at-a-time table of the reflected polynomial */
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
      table[i] = c;
    }
    ready = 1;
  }
  const uint8_t *p = data;
  crc = ~crc;
  for (size_t i = 0; i < n; i++) crc = (crc >> 8) ^ table[(crc ^ p[i]) & 0xffu];
  return ~crc;
}

uint32_t rd_tfrecord_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

static void le32(uint8_t *o, uint32_t v) {
  for (int i = 0; i < 4; i++) o[i] = (uint8_t)(v >> (8 * i));
}
static void le64(uint8_t *o, uint64_t v) {
  for (int i = 0; i < 8; i++) o[i] = (uint8_t)(v >> (8 * i));
}

size_t rd_tfrecord(const uint8_t *data, size_t n, uint8_t *out, size_t cap) {
  if (cap < n + 16) return 0;
  le64(out, (uint64_t)n);
  le32(out + 8, rd_tfrecord_mask(rd_crc32c(0, out, 8)));
  memmove(out + 12, data, n);
  le32(out + 12 + n, rd_tfrecord_mask(rd_crc32c(0, out + 12, n)));
  return n + 16;
}

/* ---- protocol buffers' wire format: varint, fixed64 (1), length-delimited (2), fixed32 (5) ---- */
static size_t varint(uint8_t *o, uint64_t v) {
  size_t n = 0;
  do {
    o[n] = (uint8_t)(v & 0x7f);
    v >>= 7;
    if (v) o[n] |= 0x80;
    n++;
  } while (v);
  return n;
}

static size_t key(uint8_t *o, unsigned field, unsigned wire) { return varint(o, (uint64_t)(field << 3 | wire)); }

/* Event's wall_time (1) and step (2, when not 0). */
static size_t event_head(uint8_t *o, double wall_time, int64_t step) {
  uint64_t bits;
  memcpy(&bits, &wall_time, 8);
  size_t n = key(o, 1, 1);
  le64(o + n, bits);
  n += 8;
  if (step) n += key(o + n, 2, 0), n += varint(o + n, (uint64_t)step);
  return n;
}

size_t rd_tfevent_version(double wall_time, uint8_t *out, size_t cap) {
  static const char v[] = "brain.Event:2";
  uint8_t ev[64];
  size_t n = event_head(ev, wall_time, 0);
  n += key(ev + n, 3, 2), n += varint(ev + n, sizeof v - 1);
  memcpy(ev + n, v, sizeof v - 1);
  return rd_tfrecord(ev, n + sizeof v - 1, out, cap);
}

size_t rd_tfevent_scalar(double wall_time, int64_t step, const char *tag, float value, uint8_t *out, size_t cap) {
  const size_t tl = strlen(tag);
  if (tl > 255) return 0;
  uint8_t val[300], sum[310], ev[360];
  size_t nv = key(val, 1, 2); /* Value: tag, simple_value */
  nv += varint(val + nv, tl);
  memcpy(val + nv, tag, tl), nv += tl;
  nv += key(val + nv, 2, 5);
  uint32_t fb;
  memcpy(&fb, &value, 4);
  le32(val + nv, fb), nv += 4;
  size_t ns = key(sum, 1, 2); /* Summary: one value */
  ns += varint(sum + ns, nv);
  memcpy(sum + ns, val, nv), ns += nv;
  size_t n = event_head(ev, wall_time, step); /* Event: summary = 5 */
  n += key(ev + n, 5, 2), n += varint(ev + n, ns);
  memcpy(ev + n, sum, ns), n += ns;
  return rd_tfrecord(ev, n, out, cap);
}

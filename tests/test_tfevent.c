/* test_tfevent: src/tfevent.c against the specifications it follows.
 * CRC-32C: the published check values (RFC 3720 appendix B.4's test vectors,
 * and the "123456789" check value of the CRC catalogue). TFRecord framing and
 * the Event bytes: worked out by hand from protocol buffers' wire format and
 * TensorFlow's event.proto / summary.proto field numbers (tfevent.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "tfevent.h"

static void test_crc32c(void) {
  uint8_t buf[48];
  CHECK(rd_crc32c(0, "123456789", 9) == 0xe3069283u, "crc32c(\"123456789\") = %08x, want e3069283",
        rd_crc32c(0, "123456789", 9));
  memset(buf, 0, 32);
  CHECK(rd_crc32c(0, buf, 32) == 0x8a9136aau, "RFC 3720 B.4: 32 bytes of zeros: %08x, want 8a9136aa", rd_crc32c(0, buf, 32));
  memset(buf, 0xff, 32);
  CHECK(rd_crc32c(0, buf, 32) == 0x62a8ab43u, "RFC 3720 B.4: 32 bytes of ones: %08x, want 62a8ab43", rd_crc32c(0, buf, 32));
  for (int i = 0; i < 32; i++) buf[i] = (uint8_t)i;
  CHECK(rd_crc32c(0, buf, 32) == 0x46dd794eu, "RFC 3720 B.4: 32 incrementing bytes: %08x, want 46dd794e",
        rd_crc32c(0, buf, 32));
  for (int i = 0; i < 32; i++) buf[i] = (uint8_t)(31 - i);
  CHECK(rd_crc32c(0, buf, 32) == 0x113fdb5cu, "RFC 3720 B.4: 32 decrementing bytes: %08x, want 113fdb5c",
        rd_crc32c(0, buf, 32));
  /* An iSCSI SCSI Read (10) command PDU (RFC 3720 B.4). */
  static const uint8_t pdu[48] = {0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 0x04, 0,
                                  0, 0, 0, 0x14, 0, 0, 0, 0x18, 0x28, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0};
  CHECK(rd_crc32c(0, pdu, 48) == 0xd9963a56u, "RFC 3720 B.4: the read command PDU: %08x, want d9963a56",
        rd_crc32c(0, pdu, 48));
  /* Continuing a CRC over a split buffer gives the whole one. */
  CHECK(rd_crc32c(rd_crc32c(0, "1234", 4), "56789", 5) == 0xe3069283u, "crc32c continued over two pieces");
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void test_record(void) {
  /* The mask: rotate right by 15, add 0xa282ead8 (TFRecord's masked_crc32c). */
  CHECK(rd_tfrecord_mask(0) == 0xa282ead8u && rd_tfrecord_mask(0x8000u) == 0xa282ead9u,
        "mask(0) = %08x, mask(0x8000) = %08x", rd_tfrecord_mask(0), rd_tfrecord_mask(0x8000u));
  uint8_t out[64];
  const size_t n = rd_tfrecord((const uint8_t *)"abc", 3, out, sizeof out);
  static const uint8_t len8[8] = {3, 0, 0, 0, 0, 0, 0, 0};
  CHECK(n == 19 && !memcmp(out, len8, 8) && le32(out + 8) == rd_tfrecord_mask(rd_crc32c(0, len8, 8)) &&
            !memcmp(out + 12, "abc", 3) && le32(out + 15) == rd_tfrecord_mask(rd_crc32c(0, "abc", 3)),
        "a record of \"abc\": length, masked CRC of the length, data, masked CRC of the data");
  CHECK(rd_tfrecord((const uint8_t *)"abc", 3, out, 18) == 0, "a record that does not fit is refused");
}

/* Event{wall_time: 1.5, step: 3, summary {value {tag: "epoch_loss", simple_value: 0.25}}}:
 * 09 <1.5 as LE double> 10 03 2a 13 [0a 11 [0a 0a "epoch_loss" 15 <0.25f LE>]] */
static void test_events(void) {
  static const uint8_t want[32] = {0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x10, 0x03, 0x2a, 0x13, 0x0a, 0x11, 0x0a,
                                   0x0a, 'e', 'p', 'o', 'c', 'h', '_', 'l', 'o', 's', 's', 0x15, 0, 0, 0x80, 0x3e};
  uint8_t out[128];
  size_t n = rd_tfevent_scalar(1.5, 3, "epoch_loss", 0.25f, out, sizeof out);
  CHECK(n == 48 && le32(out) == 32 && !memcmp(out + 12, want, 32), "a scalar event's bytes (%zu)", n);
  /* step 0 is proto3's default: not written. Event{wall_time: 2.0, file_version: "brain.Event:2"}. */
  static const uint8_t ver[24] = {0x09, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x1a, 0x0d, 'b', 'r', 'a', 'i', 'n', '.',
                                  'E', 'v', 'e', 'n', 't', ':', '2'};
  n = rd_tfevent_version(2.0, out, sizeof out);
  CHECK(n == 40 && le32(out) == 24 && !memcmp(out + 12, ver, 24), "the file_version event's bytes (%zu)", n);
  n = rd_tfevent_scalar(1.0, 300, "t", -1.0f, out, sizeof out); /* a two-byte varint: 300 = ac 02 */
  CHECK(n > 12 + 11 && out[12 + 9] == 0x10 && out[12 + 10] == 0xac && out[12 + 11] == 0x02, "step 300 as a varint");
}

int main(void) {
  test_crc32c();
  test_record();
  test_events();
  printf("%d passed, %d failed\n", passes, fails);
  return fails ? 1 : 0;
}

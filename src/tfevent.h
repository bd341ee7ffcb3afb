/* tfevent: TensorBoard's event files, written without TensorFlow: the
 * TFRecord framing and the two Event messages a scalar log needs, in protocol
 * buffers' wire format. Pure functions over byte buffers.
 *
 * A TFRecord is: length (uint64, little-endian), masked CRC-32C of those 8
 * bytes (uint32 LE), the data, masked CRC-32C of the data (uint32 LE); a
 * masked CRC is ((crc >> 15) | (crc << 17)) + 0xa282ead8. CRC-32C is the
 * Castagnoli CRC (reflected polynomial 0x82f63b78, initial and final XOR
 * 0xffffffff), RFC 3720's: crc32c("123456789") = 0xe3069283.
 *
 * The data is an Event (tensorflow/core/util/event.proto): wall_time = 1
 * (double), step = 2 (int64), file_version = 3 (string) or summary = 5
 * (Summary, tensorflow/core/framework/summary.proto: repeated Value value = 1;
 * Value: tag = 1 (string), simple_value = 2 (float)). A file starts with an
 * Event holding file_version "brain.Event:2"; each scalar is one Event with its
 * step and one Value, as tf.summary.scalar writes it (TensorBoard reads
 * simple_value as a scalar). Fields holding proto3's default (0) are left
 * out, as protobuf serializers do. */
#ifndef REPRODIST_TFEVENT_H
#define REPRODIST_TFEVENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CRC-32C of n bytes, continuing from crc (0 for a new one). */
uint32_t rd_crc32c(uint32_t crc, const void *data, size_t n);
/* TFRecord's mask of a CRC. */
uint32_t rd_tfrecord_mask(uint32_t crc);

/* The framed record of n data bytes into out (cap bytes): returns n + 16, or 0
 * if it does not fit. */
size_t rd_tfrecord(const uint8_t *data, size_t n, uint8_t *out, size_t cap);

/* Framed Event records into out (cap bytes); each returns its length, or 0 if
 * it does not fit (tag: at most 255 bytes). */
size_t rd_tfevent_version(double wall_time, uint8_t *out, size_t cap);
size_t rd_tfevent_scalar(double wall_time, int64_t step, const char *tag, float value, uint8_t *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif

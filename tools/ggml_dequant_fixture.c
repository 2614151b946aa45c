/*
 * Writes exact-decoding fixtures for think4j's tensor tests: for each GGML type, blocks made by
 * llama.cpp's own quantizer (ggml_quantize_chunk) from fixed pseudo-random floats with extreme
 * rows, plus blocks of random payload bytes (so every field value is exercised, not only those the
 * quantizer happens to choose), together with ggml's own dequantize_row_* output for all of them.
 * Built and run by tools/ggml_dequant_fixture.sh against a llama.cpp build's libggml-base.so;
 * prototypes are declared here so no llama.cpp headers are needed.
 *
 * File format (little endian): "T4JQ", int32 ggml type id, int32 elements, int32 payload bytes,
 * payload bytes, then elements float32 values.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ggml_quantize_chunk(int type, const float *src, void *dst, int64_t start, int64_t nrows,
                           int64_t n_per_row, const float *imatrix);
void ggml_quantize_init(int type);
size_t ggml_row_size(int type, int64_t ne);
int64_t ggml_blck_size(int type);
void dequantize_row_q2_K(const void *x, float *y, int64_t k);
void dequantize_row_q3_K(const void *x, float *y, int64_t k);
void dequantize_row_iq4_nl(const void *x, float *y, int64_t k);
void dequantize_row_iq4_xs(const void *x, float *y, int64_t k);

enum { T_Q2_K = 10, T_Q3_K = 11, T_IQ4_NL = 20, T_IQ4_XS = 23 };
enum { ROW = 256, QROWS = 4, RAND_ELEMS = 512 };

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t next_u64(void) {
    /* splitmix64: deterministic on every platform, unlike rand(). */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(void) { return (next_u64() >> 11) * (1.0 / 9007199254740992.0); }

static float gaussian(void) {
    double u = uniform(), v = uniform();
    return (float) (sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v));
}

/* IEEE half bits of f (round to nearest even), for the scale fields of random payloads. */
static uint16_t half_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t e = (int32_t) ((x >> 23) & 0xFF) - 127 + 15;
    uint32_t m = x & 0x7FFFFF;
    if (e >= 31) return (uint16_t) (sign | 0x7C00);
    if (e <= 0) {
        if (e < -10) return (uint16_t) sign;
        m |= 0x800000;
        uint32_t shift = (uint32_t) (14 - e);
        uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t) (sign | h);
    }
    uint32_t h = ((uint32_t) e << 10) | (m >> 13), rem = m & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t) (sign | h);
}

static void fill_rows(float *v) {
    /* Row 0: gaussian with an offset. Row 1: sub-blocks spanning 1e-7 .. 1e4 plus a zero sub-block and
     * lone outliers. Row 2: all positive. Row 3: all negative with a constant sub-block. */
    for (int i = 0; i < ROW; i++) v[i] = gaussian() * 0.8f + 0.15f;
    for (int i = 0; i < ROW; i++) {
        int sub = i / 16;
        float mag = sub == 3 ? 0.f : powf(10.f, (float) (sub % 12) - 7.f);
        v[ROW + i] = gaussian() * mag;
    }
    v[ROW + 5] = 30000.f;
    v[ROW + 77] = -65000.f;
    v[ROW + 200] = 1e-30f;
    for (int i = 0; i < ROW; i++) v[2 * ROW + i] = fabsf(gaussian()) * 0.02f + 0.001f;
    for (int i = 0; i < ROW; i++) v[3 * ROW + i] = i / 32 == 2 ? -0.5f : -fabsf(gaussian()) * 3.f;
}

/* Random payload bytes with the f16 scale fields overwritten by finite, sign-mixed values. */
static void random_blocks(int type, uint8_t *dst, size_t bytes) {
    for (size_t i = 0; i < bytes; i++) dst[i] = (uint8_t) next_u64();
    size_t bb = ggml_row_size(type, ggml_blck_size(type));
    for (size_t b = 0; b * bb < bytes; b++) {
        uint8_t *blk = dst + b * bb;
        uint16_t d = half_bits((float) ((uniform() - 0.4) * 0.1));
        uint16_t m = half_bits((float) ((uniform() - 0.2) * 0.05));
        switch (type) {
            case T_Q2_K: memcpy(blk + 80, &d, 2); memcpy(blk + 82, &m, 2); break;
            case T_Q3_K: memcpy(blk + 108, &d, 2); break;
            default: memcpy(blk, &d, 2); break;
        }
    }
}

static int write_fixture(const char *dir, const char *name, int type, void (*deq)(const void *, float *, int64_t)) {
    int n = QROWS * ROW + RAND_ELEMS;
    size_t qbytes = ggml_row_size(type, QROWS * ROW);
    size_t bytes = ggml_row_size(type, n);
    float *src = calloc(n, sizeof(float));
    float *out = calloc(n, sizeof(float));
    uint8_t *q = calloc(bytes, 1);
    fill_rows(src);
    ggml_quantize_init(type);
    size_t written = ggml_quantize_chunk(type, src, q, 0, QROWS, ROW, NULL);
    if (written != qbytes) {
        fprintf(stderr, "%s: quantize wrote %zu bytes, expected %zu\n", name, written, qbytes);
        return 1;
    }
    random_blocks(type, q + qbytes, bytes - qbytes);
    deq(q, out, n);
    char path[4096];
    snprintf(path, sizeof path, "%s/ggml-%s.bin", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    int32_t header[3] = {type, n, (int32_t) bytes};
    fwrite("T4JQ", 1, 4, f);
    fwrite(header, 4, 3, f);
    fwrite(q, 1, bytes, f);
    fwrite(out, 4, (size_t) n, f);
    fclose(f);
    printf("%s: %d elements, %zu bytes -> %s\n", name, n, bytes, path);
    free(src);
    free(out);
    free(q);
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    int rc = 0;
    rc |= write_fixture(dir, "Q2_K", T_Q2_K, dequantize_row_q2_K);
    rc |= write_fixture(dir, "Q3_K", T_Q3_K, dequantize_row_q3_K);
    rc |= write_fixture(dir, "IQ4_NL", T_IQ4_NL, dequantize_row_iq4_nl);
    rc |= write_fixture(dir, "IQ4_XS", T_IQ4_XS, dequantize_row_iq4_xs);
    return rc;
}

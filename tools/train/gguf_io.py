"""Minimal GGUF v3 reader and writer (only what tiny-retrieval needs: scalars, strings, arrays, F32/F16 tensors)."""
import struct

import numpy as np

ALIGN = 32
# GGUF metadata value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
_SCALAR = {U8: '<B', I8: '<b', U16: '<H', I16: '<h', U32: '<I', I32: '<i', F32: '<f', BOOL: '<?', U64: '<Q', I64: '<q',
           F64: '<d'}
GGML_F32, GGML_F16 = 0, 1


class Reader:
    def __init__(self, path):
        self.buf = open(path, 'rb').read()
        self.pos = 0
        if self._take(4) != b'GGUF':
            raise ValueError(f'{path}: not a GGUF file')
        self.version = self._u('<I')
        n_tensors, n_kv = self._u('<Q'), self._u('<Q')
        self.meta = {}
        for _ in range(n_kv):
            k = self._str()
            self.meta[k] = self._value(self._u('<I'))
        infos = []
        for _ in range(n_tensors):
            name = self._str()
            nd = self._u('<I')
            dims = [self._u('<Q') for _ in range(nd)]
            infos.append((name, dims, self._u('<I'), self._u('<Q')))
        align = self.meta.get('general.alignment', ALIGN)
        base = (self.pos + align - 1) // align * align
        self.tensors = {}
        for name, dims, typ, off in infos:
            n = int(np.prod(dims))
            dt = {GGML_F32: np.float32, GGML_F16: np.float16}.get(typ)
            if dt is None:
                raise ValueError(f'tensor {name}: type {typ} not supported here')
            a = np.frombuffer(self.buf, dtype=dt, count=n, offset=base + off)
            # ggml lists the fastest-varying dimension first; numpy wants it last
            self.tensors[name] = a.reshape(list(reversed(dims))).astype(np.float32)

    def _take(self, n):
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def _u(self, fmt):
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def _str(self):
        return self._take(self._u('<Q')).decode('utf-8')

    def _value(self, t):
        if t == STR:
            return self._str()
        if t == ARR:
            et, n = self._u('<I'), self._u('<Q')
            return [self._value(et) for _ in range(n)]
        return self._u(_SCALAR[t])


class Writer:
    """Collects metadata and tensors, then writes the file in one go."""

    def __init__(self):
        self.kv = []
        self.tensors = []

    def add(self, key, vtype, value, elem_type=None):
        self.kv.append((key, vtype, value, elem_type))

    def add_tensor(self, name, array, ggml_type=GGML_F32):
        a = np.ascontiguousarray(array, dtype=np.float16 if ggml_type == GGML_F16 else np.float32)
        self.tensors.append((name, a, ggml_type))

    @staticmethod
    def _s(s):
        b = s.encode('utf-8')
        return struct.pack('<Q', len(b)) + b

    def _val(self, t, v, et):
        if t == STR:
            return self._s(v)
        if t == ARR:
            return struct.pack('<IQ', et, len(v)) + b''.join(self._val(et, x, None) for x in v)
        return struct.pack(_SCALAR[t], v)

    def write(self, path):
        out = bytearray(b'GGUF' + struct.pack('<IQQ', 3, len(self.tensors), len(self.kv)))
        for k, t, v, et in self.kv:
            out += self._s(k) + struct.pack('<I', t) + self._val(t, v, et)
        off = 0
        offsets = []
        for name, a, gt in self.tensors:
            offsets.append(off)
            out += self._s(name) + struct.pack('<I', a.ndim) + b''.join(struct.pack('<Q', d) for d in reversed(a.shape))
            out += struct.pack('<IQ', gt, off)
            off = (off + a.nbytes + ALIGN - 1) // ALIGN * ALIGN
        out += b'\0' * ((-len(out)) % ALIGN)
        for (name, a, gt), o in zip(self.tensors, offsets):
            out += a.tobytes()
            out += b'\0' * ((-len(out)) % ALIGN)
        with open(path, 'wb') as f:
            f.write(out)

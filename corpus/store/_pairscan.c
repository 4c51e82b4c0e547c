/* Signatures of pairs of common words in plain ASCII text, in C: the worker-side hot loop of
 * corpus.store.pairs (PairMaker.packed), which in Python costs more per document than the rest
 * of preparing a version.
 *
 * A CodeTable maps words (runs of ASCII letters and digits, lowercased) to one code each: the
 * rank of the word's stem when the stem is common (0..65534), RARE otherwise. Python fills it
 * (SQLite's own tokenizer stems the words, see pairs.py); signature() then scans a document's
 * title and body without making a Python object per word, and returns its signature exactly
 * as the Python path makes it (BLOCKS 64-bit integers, little-endian; each pair of adjacent
 * common codes of a column sets BITS_PER_PAIR of their bits, chosen by double hashing with
 * SplitMix64), or, when it met words the table does not hold, the list of those words
 * (lowercased bytes), to be learnt and scanned again (None for a word of more than 65535
 * letters, which the table cannot hold).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define RARE 0xFFFF
#define BLOCKS 32
#define BITS_PER_PAIR 5

/* 32 bytes, one probe one cache line: words of up to INLINE letters (most) are kept in the
 * entry itself, longer ones in the arena. */
#define INLINE 16
typedef struct {
    uint64_t hash;   /* 0: empty slot */
    uint32_t offset; /* of a long word in the arena */
    uint16_t length;
    uint16_t code;
    char key[INLINE];
} Entry;

/* A byte's lowercase form when it is an ASCII letter or digit (a token byte), else 0. */
static unsigned char TOKEN_BYTE[256];

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

typedef struct {
    PyObject_HEAD
    Entry *slots;
    Py_ssize_t capacity; /* a power of two */
    Py_ssize_t count;
    char *arena;
    Py_ssize_t arena_used;
    Py_ssize_t arena_size;
} CodeTable;

static uint64_t hash_word(const char *word, Py_ssize_t length) {
    uint64_t h = FNV_OFFSET; /* FNV-1a */
    for (Py_ssize_t i = 0; i < length; i++) {
        h ^= (unsigned char)word[i];
        h *= FNV_PRIME;
    }
    return h ? h : 1;
}

static inline const char *key_of(CodeTable *t, Entry *e) {
    return e->length <= INLINE ? e->key : t->arena + e->offset;
}

static Entry *find_slot(CodeTable *t, const char *word, Py_ssize_t length, uint64_t h) {
    Py_ssize_t mask = t->capacity - 1;
    Py_ssize_t i = (Py_ssize_t)((h ^ (h >> 29)) & (uint64_t)mask);
    for (;;) {
        Entry *e = &t->slots[i];
        if (e->hash == 0)
            return e;
        if (e->hash == h && e->length == length &&
            memcmp(key_of(t, e), word, (size_t)length) == 0)
            return e;
        i = (i + 1) & mask;
    }
}

static int grow_slots(CodeTable *t) {
    Py_ssize_t capacity = t->capacity * 2;
    Entry *slots = PyMem_Calloc((size_t)capacity, sizeof(Entry));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Entry *old = t->slots;
    Py_ssize_t old_capacity = t->capacity;
    t->slots = slots;
    t->capacity = capacity;
    for (Py_ssize_t i = 0; i < old_capacity; i++) {
        if (old[i].hash) {
            Entry *e = find_slot(t, key_of(t, &old[i]), old[i].length, old[i].hash);
            *e = old[i];
        }
    }
    PyMem_Free(old);
    return 0;
}

static int reset(CodeTable *t, Py_ssize_t capacity) {
    Entry *slots = PyMem_Calloc((size_t)capacity, sizeof(Entry));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyMem_Free(t->slots);
    t->slots = slots;
    t->capacity = capacity;
    t->count = 0;
    t->arena_used = 0;
    return 0;
}

static PyObject *CodeTable_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    CodeTable *t = (CodeTable *)type->tp_alloc(type, 0);
    if (t == NULL)
        return NULL;
    t->arena_size = 1 << 16;
    t->arena = PyMem_Malloc((size_t)t->arena_size);
    if (t->arena == NULL || reset(t, 1024) < 0) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    return (PyObject *)t;
}

static void CodeTable_dealloc(CodeTable *t) {
    PyMem_Free(t->slots);
    PyMem_Free(t->arena);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyObject *CodeTable_add(CodeTable *t, PyObject *args) {
    const char *word;
    Py_ssize_t length;
    int code;
    if (!PyArg_ParseTuple(args, "y#i", &word, &length, &code))
        return NULL;
    if (length > 65535) {
        PyErr_SetString(PyExc_ValueError, "a word of more than 65535 bytes");
        return NULL;
    }
    if (code < 0 || code > RARE) {
        PyErr_SetString(PyExc_ValueError, "a code is a rank (0-65534) or 65535 (not common)");
        return NULL;
    }
    uint64_t h = hash_word(word, length);
    Entry *e = find_slot(t, word, length, h);
    if (e->hash) {
        e->code = (uint16_t)code;
        Py_RETURN_NONE;
    }
    if (length <= INLINE) {
        memcpy(e->key, word, (size_t)length);
    } else {
        if (t->arena_used + length > t->arena_size) {
            Py_ssize_t size = t->arena_size;
            while (t->arena_used + length > size)
                size *= 2;
            if (size > UINT32_MAX)
                return PyErr_NoMemory();
            char *arena = PyMem_Realloc(t->arena, (size_t)size);
            if (arena == NULL)
                return PyErr_NoMemory();
            t->arena = arena;
            t->arena_size = size;
        }
        memcpy(t->arena + t->arena_used, word, (size_t)length);
        e->offset = (uint32_t)t->arena_used;
        t->arena_used += length;
    }
    e->hash = h;
    e->length = (uint16_t)length;
    e->code = (uint16_t)code;
    t->count++;
    if (t->count * 2 > t->capacity && grow_slots(t) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *CodeTable_clear(CodeTable *t, PyObject *unused) {
    if (reset(t, 1024) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static Py_ssize_t CodeTable_len(CodeTable *t) { return t->count; }

/* SplitMix64's finalizer (pairs.py's _mix). */
static inline uint64_t mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* Scan one column: set the signature bits of its pairs, or add its unknown words to
 * `unknown` (created on the first). Returns -1 on error, 1 for a word too long for the table. */
static int scan(CodeTable *t, const unsigned char *text, Py_ssize_t n, uint64_t *blocks,
                PyObject **unknown, char *buffer, Py_ssize_t buffer_size) {
    int previous = RARE;
    Py_ssize_t i = 0;
    while (i < n) {
        while (i < n && !TOKEN_BYTE[text[i]])
            i++;
        if (i >= n)
            break;
        /* Lowercase into the buffer and hash in one pass. */
        Py_ssize_t start = i;
        uint64_t h = FNV_OFFSET;
        unsigned char c;
        while (i < n && (c = TOKEN_BYTE[text[i]]) != 0) {
            if (i - start < buffer_size)
                buffer[i - start] = (char)c;
            h ^= c;
            h *= FNV_PRIME;
            i++;
        }
        h = h ? h : 1;
        Py_ssize_t length = i - start;
        char *word = buffer;
        PyObject *long_word = NULL;
        if (length > buffer_size) { /* a very long token: a bytes object of its own */
            long_word = PyBytes_FromStringAndSize(NULL, length);
            if (long_word == NULL)
                return -1;
            word = PyBytes_AS_STRING(long_word);
            for (Py_ssize_t k = 0; k < length; k++)
                word[k] = (char)TOKEN_BYTE[text[start + k]];
        }
        if (length > 65535) { /* longer than the table keeps: the caller's own path decides */
            Py_XDECREF(long_word);
            return 1;
        }
        Entry *e = find_slot(t, word, length, h);
        int code;
        if (e->hash == 0) {
            if (*unknown == NULL && (*unknown = PyList_New(0)) == NULL) {
                Py_XDECREF(long_word);
                return -1;
            }
            PyObject *item = long_word ? long_word : PyBytes_FromStringAndSize(word, length);
            if (item == NULL || PyList_Append(*unknown, item) < 0) {
                Py_XDECREF(item);
                return -1;
            }
            Py_DECREF(item);
            long_word = NULL;
            code = RARE;
        } else {
            code = e->code;
        }
        Py_XDECREF(long_word);
        if (code != RARE && previous != RARE) {
            uint64_t h = mix(((uint64_t)previous << 16) | (uint64_t)code);
            uint64_t step = mix(h) | 1;
            for (int k = 0; k < BITS_PER_PAIR; k++) {
                uint64_t position = (h + (uint64_t)k * step) % (64 * BLOCKS);
                blocks[position >> 6] |= 1ULL << (position & 63);
            }
        }
        previous = code;
    }
    return 0;
}

static PyObject *CodeTable_signature(CodeTable *t, PyObject *args) {
    Py_buffer title, body;
    if (!PyArg_ParseTuple(args, "y*y*", &title, &body))
        return NULL;
    uint64_t blocks[BLOCKS];
    memset(blocks, 0, sizeof blocks);
    char buffer[256];
    PyObject *unknown = NULL;
    int status = scan(t, title.buf, title.len, blocks, &unknown, buffer, sizeof buffer);
    if (status == 0)
        status = scan(t, body.buf, body.len, blocks, &unknown, buffer, sizeof buffer);
    PyBuffer_Release(&title);
    PyBuffer_Release(&body);
    if (status != 0) {
        Py_XDECREF(unknown);
        if (status < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    if (unknown != NULL)
        return unknown;
    unsigned char packed[BLOCKS * 8];
    for (int i = 0; i < BLOCKS; i++)
        for (int byte = 0; byte < 8; byte++) /* little-endian, whatever the machine */
            packed[i * 8 + byte] = (unsigned char)(blocks[i] >> (8 * byte));
    return PyBytes_FromStringAndSize((const char *)packed, sizeof packed);
}

static PyMethodDef CodeTable_methods[] = {
    {"add", (PyCFunction)CodeTable_add, METH_VARARGS,
     "add(word, code): the code (rank 0-65534, or 65535: not common) of a lowercased word."},
    {"clear", (PyCFunction)CodeTable_clear, METH_NOARGS, "Forget every word."},
    {"signature", (PyCFunction)CodeTable_signature, METH_VARARGS,
     "signature(title, body): the packed signature of two ASCII columns, the list of the "
     "words the table does not hold yet, or None for a word longer than it can hold."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods CodeTable_as_sequence = {
    .sq_length = (lenfunc)CodeTable_len,
};

static PyTypeObject CodeTableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "corpus.store._pairscan.CodeTable",
    .tp_doc = "Words to the codes of their stems, and the signature of a text's pairs.",
    .tp_basicsize = sizeof(CodeTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = CodeTable_new,
    .tp_dealloc = (destructor)CodeTable_dealloc,
    .tp_methods = CodeTable_methods,
    .tp_as_sequence = &CodeTable_as_sequence,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pairscan",
    "Signatures of pairs of common words in ASCII text (the C side of corpus.store.pairs).",
    -1, NULL,
};

PyMODINIT_FUNC PyInit__pairscan(void) {
    for (int c = 0; c < 256; c++) {
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))
            TOKEN_BYTE[c] = (unsigned char)c;
        else if (c >= 'A' && c <= 'Z')
            TOKEN_BYTE[c] = (unsigned char)(c + 32);
    }
    if (PyType_Ready(&CodeTableType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&CodeTableType);
    if (PyModule_AddObject(m, "CodeTable", (PyObject *)&CodeTableType) < 0) {
        Py_DECREF(&CodeTableType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "BLOCKS", BLOCKS) < 0 ||
        PyModule_AddIntConstant(m, "BITS_PER_PAIR", BITS_PER_PAIR) < 0 ||
        PyModule_AddIntConstant(m, "RARE", RARE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

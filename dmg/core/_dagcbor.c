/*
 * dmg.core._dagcbor: strict DAG-CBOR encoding and decoding in C, the optional accelerator of dmg.core.codec.
 *
 * encode(value, cid_type) writes the bytes of a value made of exact None, bool, int, float, str, bytes, list,
 * tuple, dict with str keys and cid_type objects (their binary CID is the bytes in the "_raw" slot): shortest-form
 * heads, definite lengths, 64-bit floats, map keys sorted length-first then bytewise by their UTF-8 form, CIDs as
 * tag 42 around 0x00 + binary CID, nesting at most DMG_MAX_DEPTH levels (arrays, maps and tags each count as one).
 *
 * decode(data, make_cid) reads exactly those bytes and builds the value in one pass: it refuses non-minimal heads,
 * indefinite lengths, any simple value but false/true/null, floats that are not 64-bit or are NaN or Infinity,
 * every tag but 42 around a byte string starting with 0x00, map keys that are not text or not strictly increasing
 * length-first then bytewise, invalid UTF-8, nesting deeper than DMG_MAX_DEPTH, and bytes after the item. The
 * binary CID inside tag 42 is handed to make_cid, which checks it and builds the CID object.
 *
 * Both raise ValueError(message, offset_or_None) for anything they refuse, and codec.py then takes its pure-Python
 * path: for encode it converts what this module does not take (subclasses, bytearray, memoryview) or names the
 * error; for decode its strict reader names the broken rule. So this module must agree with codec.py on which
 * values and bytes are accepted and what they become, not on the wording of its messages.
 *
 * The input of decode is treated as hostile: every read is bounds-checked against the end of the buffer before it
 * happens, and a claimed length (up to 2**64 - 1) is compared with the bytes left before anything is allocated
 * for it. C recursion is bounded by DMG_MAX_DEPTH on both sides.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DMG_MAX_DEPTH 256
#define DMG_CID_TAG 42
#define DMG_SMALL_MAP 32

static PyObject *raw_slot_name; /* "_raw", interned at import */

/* Raise ValueError(message, offset); offset < 0 stands for "no offset" (encode). Returns NULL for convenience. */
static PyObject *refuse(const char *message, Py_ssize_t offset) {
    PyObject *arguments = offset < 0 ? Py_BuildValue("(sO)", message, Py_None) : Py_BuildValue("(sn)", message, offset);
    if (arguments != NULL) {
        PyErr_SetObject(PyExc_ValueError, arguments);
        Py_DECREF(arguments);
    }
    return NULL;
}

/* --- encoding ------------------------------------------------------------------------------------------------ */

typedef struct {
    unsigned char *data;
    size_t length;
    size_t capacity;
    PyObject *cid_type;
} Output;

static int reserve(Output *out, size_t extra) {
    if (out->capacity - out->length >= extra) {
        return 0;
    }
    size_t capacity = out->capacity;
    while (capacity - out->length < extra) {
        if (capacity > (size_t)PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        capacity *= 2;
    }
    unsigned char *grown = PyMem_Realloc(out->data, capacity);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    out->data = grown;
    out->capacity = capacity;
    return 0;
}

static int write_bytes(Output *out, const void *bytes, size_t count) {
    if (reserve(out, count) < 0) {
        return -1;
    }
    memcpy(out->data + out->length, bytes, count);
    out->length += count;
    return 0;
}

/* An item head in its shortest form. */
static int write_head(Output *out, unsigned major, uint64_t argument) {
    unsigned char head[9];
    size_t size;
    unsigned char initial = (unsigned char)(major << 5);
    if (argument < 24) {
        head[0] = initial | (unsigned char)argument;
        size = 0;
    } else if (argument <= 0xff) {
        head[0] = initial | 24;
        size = 1;
    } else if (argument <= 0xffff) {
        head[0] = initial | 25;
        size = 2;
    } else if (argument <= 0xffffffffu) {
        head[0] = initial | 26;
        size = 4;
    } else {
        head[0] = initial | 27;
        size = 8;
    }
    for (size_t i = 0; i < size; i++) {
        head[1 + i] = (unsigned char)(argument >> (8 * (size - 1 - i)));
    }
    return write_bytes(out, head, 1 + size);
}

typedef struct {
    const char *key;
    Py_ssize_t length;
    PyObject *value;
} Entry;

static int entry_order(const void *left, const void *right) {
    const Entry *a = left;
    const Entry *b = right;
    if (a->length != b->length) {
        return a->length < b->length ? -1 : 1;
    }
    return memcmp(a->key, b->key, (size_t)a->length);
}

static void sort_entries(Entry *entries, Py_ssize_t count) {
    if (count > DMG_SMALL_MAP) {
        qsort(entries, (size_t)count, sizeof(Entry), entry_order);
        return;
    }
    for (Py_ssize_t i = 1; i < count; i++) {
        Entry moving = entries[i];
        Py_ssize_t j = i;
        while (j > 0 && entry_order(&entries[j - 1], &moving) > 0) {
            entries[j] = entries[j - 1];
            j--;
        }
        entries[j] = moving;
    }
}

static int encode_item(Output *out, PyObject *value, int depth);

static int encode_int(Output *out, PyObject *value) {
    int overflow;
    long long small = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow == 0) {
        if (small == -1 && PyErr_Occurred()) {
            return -1;
        }
        return small >= 0 ? write_head(out, 0, (uint64_t)small) : write_head(out, 1, (uint64_t)(-1 - small));
    }
    /* Beyond 64-bit signed: CBOR still holds [-2**64, 2**64 - 1]; a negative n is written as -1 - n == ~n. */
    PyObject *magnitude = overflow > 0 ? Py_NewRef(value) : PyNumber_Invert(value);
    if (magnitude == NULL) {
        return -1;
    }
    unsigned long long argument = PyLong_AsUnsignedLongLong(magnitude);
    Py_DECREF(magnitude);
    if (argument == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        refuse("integer is outside the DAG-CBOR range", -1);
        return -1;
    }
    return write_head(out, overflow > 0 ? 0 : 1, argument);
}

static int encode_float(Output *out, PyObject *value) {
    double number = PyFloat_AS_DOUBLE(value);
    if (!isfinite(number)) {
        refuse("NaN and Infinity are not allowed", -1);
        return -1;
    }
    uint64_t bits;
    memcpy(&bits, &number, sizeof bits);
    unsigned char item[9] = {0xfb};
    for (size_t i = 0; i < 8; i++) {
        item[1 + i] = (unsigned char)(bits >> (8 * (7 - i)));
    }
    return write_bytes(out, item, sizeof item);
}

static int encode_text(Output *out, PyObject *value) {
    Py_ssize_t length;
    const char *text = PyUnicode_AsUTF8AndSize(value, &length);
    if (text == NULL) {
        PyErr_Clear();
        refuse("text is not valid Unicode (it holds a lone surrogate)", -1);
        return -1;
    }
    if (write_head(out, 3, (uint64_t)length) < 0) {
        return -1;
    }
    return write_bytes(out, text, (size_t)length);
}

static int encode_cid(Output *out, PyObject *value) {
    PyObject *raw = PyObject_GetAttr(value, raw_slot_name);
    if (raw == NULL) {
        return -1;
    }
    if (!PyBytes_CheckExact(raw)) {
        Py_DECREF(raw);
        refuse("CID does not hold bytes", -1);
        return -1;
    }
    static const unsigned char tag[2] = {0xd8, DMG_CID_TAG};
    static const unsigned char identity_prefix = 0x00;
    Py_ssize_t length = PyBytes_GET_SIZE(raw);
    int failed = write_bytes(out, tag, sizeof tag) < 0 || write_head(out, 2, (uint64_t)length + 1) < 0 ||
                 write_bytes(out, &identity_prefix, 1) < 0 || write_bytes(out, PyBytes_AS_STRING(raw), (size_t)length) < 0;
    Py_DECREF(raw);
    return failed ? -1 : 0;
}

/*
 * No Python code runs while a container is written (only exact built-in types are walked, and CIDs are read
 * through their slot), so the borrowed references taken from it stay valid until it is done.
 */
static int encode_sequence(Output *out, PyObject *value, int depth) {
    Py_ssize_t count = PySequence_Fast_GET_SIZE(value);
    PyObject **items = PySequence_Fast_ITEMS(value);
    if (write_head(out, 4, (uint64_t)count) < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (encode_item(out, items[i], depth + 1) < 0) {
            return -1;
        }
    }
    return 0;
}

static int encode_map(Output *out, PyObject *value, int depth) {
    Py_ssize_t count = PyDict_GET_SIZE(value);
    Entry small[DMG_SMALL_MAP];
    Entry *entries = small;
    if (count > DMG_SMALL_MAP) {
        entries = PyMem_Malloc((size_t)count * sizeof(Entry));
        if (entries == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    int status = -1;
    Py_ssize_t position = 0;
    Py_ssize_t filled = 0;
    PyObject *key;
    PyObject *item;
    while (PyDict_Next(value, &position, &key, &item)) {
        if (!PyUnicode_CheckExact(key)) {
            refuse("map key is not an exact str", -1);
            goto done;
        }
        entries[filled].key = PyUnicode_AsUTF8AndSize(key, &entries[filled].length);
        if (entries[filled].key == NULL) {
            PyErr_Clear();
            refuse("map key is not valid Unicode (it holds a lone surrogate)", -1);
            goto done;
        }
        entries[filled].value = item;
        filled++;
    }
    sort_entries(entries, filled);
    if (write_head(out, 5, (uint64_t)filled) < 0) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < filled; i++) {
        if (write_head(out, 3, (uint64_t)entries[i].length) < 0 ||
            write_bytes(out, entries[i].key, (size_t)entries[i].length) < 0 ||
            encode_item(out, entries[i].value, depth + 1) < 0) {
            goto done;
        }
    }
    status = 0;
done:
    if (entries != small) {
        PyMem_Free(entries);
    }
    return status;
}

/* ``depth`` is the nesting level the item occupies if it is an array, a map or a tag. */
static int encode_item(Output *out, PyObject *value, int depth) {
    PyTypeObject *type = Py_TYPE(value);
    if (type == &PyUnicode_Type) {
        return encode_text(out, value);
    }
    if (type == &PyLong_Type) {
        return encode_int(out, value);
    }
    if (value == Py_None || value == Py_True || value == Py_False) {
        unsigned char simple = value == Py_None ? 0xf6 : value == Py_True ? 0xf5 : 0xf4;
        return write_bytes(out, &simple, 1);
    }
    if (type == &PyFloat_Type) {
        return encode_float(out, value);
    }
    if (type == &PyBytes_Type) {
        Py_ssize_t length = PyBytes_GET_SIZE(value);
        if (write_head(out, 2, (uint64_t)length) < 0) {
            return -1;
        }
        return write_bytes(out, PyBytes_AS_STRING(value), (size_t)length);
    }
    int container = type == &PyDict_Type || type == &PyList_Type || type == &PyTuple_Type;
    if (container || (PyObject *)type == out->cid_type) {
        if (depth > DMG_MAX_DEPTH) {
            refuse("nesting deeper than 256 levels", -1);
            return -1;
        }
        if (type == &PyDict_Type) {
            return encode_map(out, value, depth);
        }
        return container ? encode_sequence(out, value, depth) : encode_cid(out, value);
    }
    refuse("type is not one this encoder takes", -1);
    return -1;
}

static PyObject *encode(PyObject *module, PyObject *const *arguments, Py_ssize_t count) {
    (void)module;
    if (count != 2) {
        PyErr_SetString(PyExc_TypeError, "encode(value, cid_type) takes exactly 2 arguments");
        return NULL;
    }
    Output out = {PyMem_Malloc(256), 0, 256, arguments[1]};
    if (out.data == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *result = NULL;
    if (encode_item(&out, arguments[0], 1) == 0) {
        result = PyBytes_FromStringAndSize((const char *)out.data, (Py_ssize_t)out.length);
    }
    PyMem_Free(out.data);
    return result;
}

/* --- decoding ------------------------------------------------------------------------------------------------ */

typedef struct {
    const unsigned char *start;
    const unsigned char *pos;
    const unsigned char *end;
    PyObject *make_cid;
} Input;

typedef struct {
    int major;
    int info;
    uint64_t argument;
    const unsigned char *at;
} Head;

static PyObject *fail(const Input *in, const unsigned char *at, const char *message) {
    return refuse(message, (Py_ssize_t)(at - in->start));
}

static size_t left(const Input *in) { return (size_t)(in->end - in->pos); }

/* Read an item head. Major type 7 returns without reading its argument: the caller decides what it may be. */
static int read_head(Input *in, Head *head) {
    const unsigned char *at = in->pos;
    if (at >= in->end) {
        fail(in, at, "unexpected end of data (truncated input)");
        return 0;
    }
    unsigned char initial = *at;
    head->at = at;
    head->major = initial >> 5;
    head->info = initial & 0x1f;
    in->pos = at + 1;
    if (head->major == 7) {
        head->argument = 0;
        return 1;
    }
    if (head->info < 24) {
        head->argument = (uint64_t)head->info;
        return 1;
    }
    if (head->info == 31) {
        fail(in, at, "indefinite-length item is not allowed (lengths must be definite)");
        return 0;
    }
    if (head->info > 27) {
        fail(in, at, "reserved additional information is not well-formed CBOR");
        return 0;
    }
    size_t size = (size_t)1 << (head->info - 24);
    if (left(in) < size) {
        fail(in, at, "unexpected end of data (truncated input)");
        return 0;
    }
    uint64_t argument = 0;
    for (size_t i = 0; i < size; i++) {
        argument = (argument << 8) | in->pos[i];
    }
    in->pos += size;
    uint64_t smallest = head->info == 24 ? 24 : (uint64_t)1 << (4 * size);
    if (argument < smallest) {
        fail(in, at, "integer, length or tag is not in its shortest form (non-minimal)");
        return 0;
    }
    head->argument = argument;
    return 1;
}

/* Step over a string's bytes after its head; the length is untrusted, so compare it with what is left first. */
static const unsigned char *take(Input *in, const Head *head) {
    if (head->argument > (uint64_t)left(in)) {
        fail(in, head->at, "unexpected end of data (truncated input)");
        return NULL;
    }
    const unsigned char *chunk = in->pos;
    in->pos += (size_t)head->argument;
    return chunk;
}

static PyObject *decode_text(Input *in, const Head *head, const char *invalid) {
    const unsigned char *chunk = take(in, head);
    if (chunk == NULL) {
        return NULL;
    }
    PyObject *text = PyUnicode_DecodeUTF8((const char *)chunk, (Py_ssize_t)head->argument, "strict");
    if (text == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        return fail(in, head->at, invalid);
    }
    return text;
}

static PyObject *decode_negative(uint64_t argument) {
    if (argument <= (uint64_t)LLONG_MAX) {
        return PyLong_FromLongLong(-1 - (long long)argument);
    }
    PyObject *magnitude = PyLong_FromUnsignedLongLong(argument);
    if (magnitude == NULL) {
        return NULL;
    }
    PyObject *value = PyNumber_Invert(magnitude);
    Py_DECREF(magnitude);
    return value;
}

static PyObject *decode_item(Input *in, int depth);

static PyObject *decode_array(Input *in, const Head *head, int depth) {
    /* Every item takes at least one byte: a longer claim is already truncated, and is refused before allocating. */
    if (head->argument > (uint64_t)left(in)) {
        return fail(in, head->at, "unexpected end of data (truncated input)");
    }
    Py_ssize_t count = (Py_ssize_t)head->argument;
    PyObject *list = PyList_New(count);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = decode_item(in, depth + 1);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

static PyObject *decode_map(Input *in, const Head *head, int depth) {
    if (head->argument > (uint64_t)left(in) / 2) {
        return fail(in, head->at, "unexpected end of data (truncated input)");
    }
    PyObject *map = PyDict_New();
    if (map == NULL) {
        return NULL;
    }
    const unsigned char *previous = NULL;
    size_t previous_length = 0;
    for (uint64_t i = 0; i < head->argument; i++) {
        Head key_head;
        if (!read_head(in, &key_head)) {
            goto error;
        }
        if (key_head.major != 3) {
            fail(in, key_head.at, "map key is not a text string (DAG-CBOR map keys must be strings)");
            goto error;
        }
        const unsigned char *raw = in->pos;
        size_t length = (size_t)key_head.argument;
        PyObject *key = decode_text(in, &key_head, "map key is not valid UTF-8");
        if (key == NULL) {
            goto error;
        }
        if (previous != NULL) {
            int order = length != previous_length ? (length < previous_length ? -1 : 1) : memcmp(raw, previous, length);
            if (order <= 0) {
                Py_DECREF(key);
                fail(in, key_head.at, order == 0 ? "duplicate map key" : "map keys are not sorted length-first then bytewise");
                goto error;
            }
        }
        previous = raw;
        previous_length = length;
        PyObject *value = decode_item(in, depth + 1);
        if (value == NULL) {
            Py_DECREF(key);
            goto error;
        }
        int stored = PyDict_SetItem(map, key, value);
        Py_DECREF(key);
        Py_DECREF(value);
        if (stored < 0) {
            goto error;
        }
    }
    return map;
error:
    Py_DECREF(map);
    return NULL;
}

static PyObject *decode_cid(Input *in, const Head *tag) {
    if (tag->argument != DMG_CID_TAG) {
        return fail(in, tag->at, "tag is not allowed (only tag 42, for CIDs)");
    }
    Head inner;
    if (!read_head(in, &inner)) {
        return NULL;
    }
    if (inner.major != 2) {
        return fail(in, inner.at, "tag 42 must wrap a byte string");
    }
    const unsigned char *content = take(in, &inner);
    if (content == NULL) {
        return NULL;
    }
    if (inner.argument == 0 || content[0] != 0x00) {
        return fail(in, inner.at, "tag 42 byte string must start with the 0x00 multibase prefix");
    }
    PyObject *raw = PyBytes_FromStringAndSize((const char *)content + 1, (Py_ssize_t)inner.argument - 1);
    if (raw == NULL) {
        return NULL;
    }
    PyObject *cid = PyObject_CallOneArg(in->make_cid, raw);
    Py_DECREF(raw);
    return cid;
}

static PyObject *decode_simple(Input *in, const Head *head) {
    switch (head->info) {
    case 20:
        Py_RETURN_FALSE;
    case 21:
        Py_RETURN_TRUE;
    case 22:
        Py_RETURN_NONE;
    case 27: {
        if (left(in) < 8) {
            return fail(in, head->at, "unexpected end of data (truncated input)");
        }
        uint64_t bits = 0;
        for (size_t i = 0; i < 8; i++) {
            bits = (bits << 8) | in->pos[i];
        }
        double number;
        memcpy(&number, &bits, sizeof number);
        if (!isfinite(number)) {
            return fail(in, head->at, "NaN or Infinity is not allowed");
        }
        in->pos += 8;
        return PyFloat_FromDouble(number);
    }
    case 23:
        return fail(in, head->at, "undefined is not allowed");
    case 25:
    case 26:
        return fail(in, head->at, "float is not 64-bit, or is NaN or Infinity");
    case 31:
        return fail(in, head->at, "unexpected break code (indefinite lengths are not allowed)");
    default:
        if (head->info > 27) {
            return fail(in, head->at, "reserved additional information is not well-formed CBOR");
        }
        return fail(in, head->at, "simple value is not allowed");
    }
}

/* ``depth`` is the nesting level the item occupies if it is an array, a map or a tag. */
static PyObject *decode_item(Input *in, int depth) {
    Head head;
    if (!read_head(in, &head)) {
        return NULL;
    }
    if (head.major >= 4 && head.major != 7 && depth > DMG_MAX_DEPTH) {
        return fail(in, head.at, "nesting deeper than 256 levels");
    }
    switch (head.major) {
    case 0:
        return PyLong_FromUnsignedLongLong(head.argument);
    case 1:
        return decode_negative(head.argument);
    case 2: {
        const unsigned char *chunk = take(in, &head);
        return chunk == NULL ? NULL : PyBytes_FromStringAndSize((const char *)chunk, (Py_ssize_t)head.argument);
    }
    case 3:
        return decode_text(in, &head, "text string is not valid UTF-8");
    case 4:
        return decode_array(in, &head, depth);
    case 5:
        return decode_map(in, &head, depth);
    case 6:
        return decode_cid(in, &head);
    default:
        return decode_simple(in, &head);
    }
}

static PyObject *decode(PyObject *module, PyObject *const *arguments, Py_ssize_t count) {
    (void)module;
    if (count != 2) {
        PyErr_SetString(PyExc_TypeError, "decode(data, make_cid) takes exactly 2 arguments");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(arguments[0], &view, PyBUF_SIMPLE) != 0) {
        return NULL;
    }
    Input in = {view.buf, view.buf, (const unsigned char *)view.buf + view.len, arguments[1]};
    PyObject *value;
    if (view.len == 0) {
        value = fail(&in, in.start, "empty input");
    } else {
        value = decode_item(&in, 1);
        if (value != NULL && in.pos != in.end) {
            Py_CLEAR(value);
            fail(&in, in.pos, "trailing bytes after the first item");
        }
    }
    PyBuffer_Release(&view);
    return value;
}

static PyMethodDef methods[] = {
    {"encode", (PyCFunction)(void (*)(void))encode, METH_FASTCALL,
     "encode(value, cid_type, /)\n--\n\n"
     "The strict DAG-CBOR bytes of value, or ValueError(message, None) for anything this encoder does not take."},
    {"decode", (PyCFunction)(void (*)(void))decode, METH_FASTCALL,
     "decode(data, make_cid, /)\n--\n\n"
     "The value of data if it is one strict DAG-CBOR item (make_cid builds each CID from its binary form), else "
     "ValueError(message, offset) at the first broken rule."},
    {NULL, NULL, 0, NULL},
};

static int exec_module(PyObject *module) {
    (void)module;
    if (raw_slot_name == NULL) {
        raw_slot_name = PyUnicode_InternFromString("_raw");
    }
    return raw_slot_name == NULL ? -1 : 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT,
    "dmg.core._dagcbor",
    "Strict DAG-CBOR encoding and decoding in C; the optional accelerator of dmg.core.codec.",
    0,
    methods,
    slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__dagcbor(void) { return PyModuleDef_Init(&module_definition); }

/*
 * dmg.core._strict: a one-pass strict DAG-CBOR validator, the optional accelerator of dmg.core.codec.decode.
 *
 * validate(data) walks the bytes once without building any object and raises ValueError(message, offset) at the
 * first rule they break: shortest-form heads, definite lengths, only false/true/null and finite 64-bit floats in
 * major type 7, only tag 42 around a byte string that starts with 0x00, text map keys strictly increasing
 * length-first then bytewise, valid UTF-8, nesting at most DMG_MAX_DEPTH levels (arrays, maps and tags each
 * count as one, as in codec.MAX_DEPTH), exactly one item and nothing after it.
 *
 * It does not check the CID inside tag 42 (Python parses it when it builds the value) and does not produce the
 * value. Its messages are for debugging only: on a refusal codec.py asks its pure-Python reader for the exact
 * DecodeError, so the two must agree on which bytes are accepted, not on the wording.
 *
 * The input is treated as hostile: every read is bounds-checked against the end of the buffer before it happens,
 * claimed lengths (up to 2**64 - 1) are compared with the bytes left and never allocated, and nesting is tracked
 * on a fixed-size explicit stack instead of C recursion.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#define DMG_MAX_DEPTH 256
#define DMG_CID_TAG 42

typedef struct {
    const unsigned char *start;
    const unsigned char *pos;
    const unsigned char *end;
    const char *message;
    size_t offset;
} Cursor;

typedef struct {
    uint64_t remaining; /* items (arrays) or entries (maps) still to read */
    int is_map;
    const unsigned char *previous_key; /* NULL until the map's first key is read */
    size_t previous_key_length;
} Frame;

typedef struct {
    int major;
    int info;
    uint64_t argument;
    const unsigned char *at;
} Head;

static int fail(Cursor *cursor, const unsigned char *at, const char *message) {
    cursor->message = message;
    cursor->offset = (size_t)(at - cursor->start);
    return 0;
}

static size_t left(const Cursor *cursor) { return (size_t)(cursor->end - cursor->pos); }

/* Read an item head. Major type 7 returns without reading its argument: the caller decides what it may be. */
static int read_head(Cursor *cursor, Head *head) {
    const unsigned char *at = cursor->pos;
    if (at >= cursor->end) {
        return fail(cursor, at, "unexpected end of data (truncated input)");
    }
    unsigned char initial = *at;
    head->at = at;
    head->major = initial >> 5;
    head->info = initial & 0x1f;
    cursor->pos = at + 1;
    if (head->major == 7) {
        head->argument = 0;
        return 1;
    }
    if (head->info < 24) {
        head->argument = (uint64_t)head->info;
        return 1;
    }
    if (head->info == 31) {
        return fail(cursor, at, "indefinite-length item is not allowed (lengths must be definite)");
    }
    if (head->info > 27) {
        return fail(cursor, at, "reserved additional information is not well-formed CBOR");
    }
    size_t size = (size_t)1 << (head->info - 24);
    if (left(cursor) < size) {
        return fail(cursor, at, "unexpected end of data (truncated input)");
    }
    uint64_t argument = 0;
    for (size_t i = 0; i < size; i++) {
        argument = (argument << 8) | cursor->pos[i];
    }
    cursor->pos += size;
    uint64_t smallest = head->info == 24 ? 24 : (uint64_t)1 << (4 * size);
    if (argument < smallest) {
        return fail(cursor, at, "integer, length or tag is not in its shortest form (non-minimal)");
    }
    head->argument = argument;
    return 1;
}

/* Skip a string's bytes after its head; the length is untrusted, so compare it with what is left first. */
static int take(Cursor *cursor, const Head *head, const unsigned char **chunk) {
    if (head->argument > (uint64_t)left(cursor)) {
        return fail(cursor, head->at, "unexpected end of data (truncated input)");
    }
    *chunk = cursor->pos;
    cursor->pos += (size_t)head->argument;
    return 1;
}

/* Well-formed UTF-8 as Unicode defines it (Table 3-7): no overlong forms, no surrogates, nothing past U+10FFFF. */
static int is_utf8(const unsigned char *text, size_t length) {
    size_t i = 0;
    while (i < length) {
        unsigned char c = text[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t rest = length - i - 1;
        if (c < 0xc2) {
            return 0;
        }
        if (c < 0xe0) {
            if (rest < 1 || (text[i + 1] & 0xc0) != 0x80) {
                return 0;
            }
            i += 2;
        } else if (c < 0xf0) {
            if (rest < 2) {
                return 0;
            }
            unsigned char second = text[i + 1];
            unsigned char low = c == 0xe0 ? 0xa0 : 0x80;
            unsigned char high = c == 0xed ? 0x9f : 0xbf;
            if (second < low || second > high || (text[i + 2] & 0xc0) != 0x80) {
                return 0;
            }
            i += 3;
        } else if (c < 0xf5) {
            if (rest < 3) {
                return 0;
            }
            unsigned char second = text[i + 1];
            unsigned char low = c == 0xf0 ? 0x90 : 0x80;
            unsigned char high = c == 0xf4 ? 0x8f : 0xbf;
            if (second < low || second > high || (text[i + 2] & 0xc0) != 0x80 || (text[i + 3] & 0xc0) != 0x80) {
                return 0;
            }
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

static int read_key(Cursor *cursor, Frame *map) {
    Head head;
    const unsigned char *key;
    if (!read_head(cursor, &head)) {
        return 0;
    }
    if (head.major != 3) {
        return fail(cursor, head.at, "map key is not a text string (DAG-CBOR map keys must be strings)");
    }
    if (!take(cursor, &head, &key)) {
        return 0;
    }
    size_t length = (size_t)head.argument;
    if (!is_utf8(key, length)) {
        return fail(cursor, head.at, "map key is not valid UTF-8");
    }
    if (map->previous_key != NULL) {
        size_t previous = map->previous_key_length;
        int order = length != previous ? (length < previous ? -1 : 1) : memcmp(key, map->previous_key, length);
        if (order == 0) {
            return fail(cursor, head.at, "duplicate map key");
        }
        if (order < 0) {
            return fail(cursor, head.at, "map keys are not sorted length-first then bytewise");
        }
    }
    map->previous_key = key;
    map->previous_key_length = length;
    return 1;
}

static int read_simple(Cursor *cursor, const Head *head) {
    switch (head->info) {
    case 20:
    case 21:
    case 22:
        return 1;
    case 27: {
        if (left(cursor) < 8) {
            return fail(cursor, head->at, "unexpected end of data (truncated input)");
        }
        /* Exponent all ones is Infinity or NaN; the sign bit sits above it in the first byte. */
        unsigned exponent = ((unsigned)(cursor->pos[0] & 0x7f) << 4) | (cursor->pos[1] >> 4);
        if (exponent == 0x7ff) {
            return fail(cursor, head->at, "NaN or Infinity is not allowed");
        }
        cursor->pos += 8;
        return 1;
    }
    case 23:
        return fail(cursor, head->at, "undefined is not allowed");
    case 25:
    case 26:
        return fail(cursor, head->at, "float is not 64-bit, or is NaN or Infinity");
    case 31:
        return fail(cursor, head->at, "unexpected break code (indefinite lengths are not allowed)");
    default:
        if (head->info > 27) {
            return fail(cursor, head->at, "reserved additional information is not well-formed CBOR");
        }
        return fail(cursor, head->at, "simple value is not allowed");
    }
}

static int read_cid_tag(Cursor *cursor, const Head *tag) {
    Head inner;
    const unsigned char *content;
    if (tag->argument != DMG_CID_TAG) {
        return fail(cursor, tag->at, "tag is not allowed (only tag 42, for CIDs)");
    }
    if (!read_head(cursor, &inner)) {
        return 0;
    }
    if (inner.major != 2) {
        return fail(cursor, inner.at, "tag 42 must wrap a byte string");
    }
    if (!take(cursor, &inner, &content)) {
        return 0;
    }
    if (inner.argument == 0 || content[0] != 0x00) {
        return fail(cursor, inner.at, "tag 42 byte string must start with the 0x00 multibase prefix");
    }
    return 1;
}

static int validate_item(Cursor *cursor) {
    Frame stack[DMG_MAX_DEPTH];
    size_t open = 0; /* containers entered and not yet finished; an item read now sits at level open + 1 */
    for (;;) {
        Head head;
        const unsigned char *chunk;
        if (!read_head(cursor, &head)) {
            return 0;
        }
        if (head.major >= 4 && head.major != 7 && open + 1 > DMG_MAX_DEPTH) {
            return fail(cursor, head.at, "nesting deeper than 256 levels");
        }
        switch (head.major) {
        case 0:
        case 1:
            break;
        case 2:
            if (!take(cursor, &head, &chunk)) {
                return 0;
            }
            break;
        case 3:
            if (!take(cursor, &head, &chunk)) {
                return 0;
            }
            if (!is_utf8(chunk, (size_t)head.argument)) {
                return fail(cursor, head.at, "text string is not valid UTF-8");
            }
            break;
        case 4:
        case 5:
            /* Every item takes at least one byte and every entry two: a longer claim is already truncated. */
            if (head.argument > (uint64_t)left(cursor) / (head.major == 5 ? 2 : 1)) {
                return fail(cursor, head.at, "unexpected end of data (truncated input)");
            }
            if (head.argument > 0) {
                stack[open].remaining = head.argument;
                stack[open].is_map = head.major == 5;
                stack[open].previous_key = NULL;
                stack[open].previous_key_length = 0;
                open++;
            }
            break;
        case 6:
            if (!read_cid_tag(cursor, &head)) {
                return 0;
            }
            break;
        default:
            if (!read_simple(cursor, &head)) {
                return 0;
            }
            break;
        }
        /* The item is complete (or a container was opened): find what comes next. */
        while (open > 0 && stack[open - 1].remaining == 0) {
            open--;
        }
        if (open == 0) {
            return 1;
        }
        Frame *top = &stack[open - 1];
        top->remaining--;
        if (top->is_map && !read_key(cursor, top)) {
            return 0;
        }
    }
}

static PyObject *validate(PyObject *module, PyObject *data) {
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0) {
        return NULL;
    }
    Cursor cursor = {view.buf, view.buf, (const unsigned char *)view.buf + view.len, NULL, 0};
    int accepted;
    if (view.len == 0) {
        accepted = fail(&cursor, cursor.start, "empty input");
    } else {
        accepted = validate_item(&cursor);
        if (accepted && cursor.pos != cursor.end) {
            accepted = fail(&cursor, cursor.pos, "trailing bytes after the first item");
        }
    }
    PyBuffer_Release(&view);
    if (accepted) {
        Py_RETURN_NONE;
    }
    PyObject *offset = PyLong_FromSize_t(cursor.offset);
    if (offset != NULL) {
        PyObject *arguments = Py_BuildValue("(sN)", cursor.message, offset);
        if (arguments != NULL) {
            PyErr_SetObject(PyExc_ValueError, arguments);
            Py_DECREF(arguments);
        }
    }
    return NULL;
}

static PyMethodDef methods[] = {
    {"validate", validate, METH_O,
     "validate(data, /)\n--\n\n"
     "Return None if data is one strict DAG-CBOR item, else raise ValueError(message, offset) at the first "
     "broken rule. The CID inside tag 42 is not checked."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT,
    "dmg.core._strict",
    "One-pass strict DAG-CBOR validation in C; the optional accelerator of dmg.core.codec.decode.",
    0,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__strict(void) { return PyModuleDef_Init(&module_definition); }

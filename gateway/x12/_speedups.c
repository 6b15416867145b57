/*
 * The X12 tokenizer's hot path in C: cut regular text into Segment objects.
 *
 * gateway/x12/tokenizer.py is the reference and the fallback: this module only speeds up the
 * common case it already has a fast path for (ASCII text where every segment terminator is
 * followed by the same line break, no blank or indented lines), and it stops, handing the rest
 * back to Python, at the first segment that is anything else. tests/x12/test_x12_speedups.py holds
 * the two to the same output, segment for segment and defect for defect.
 *
 * split_regular(text, joined, sep, span, segment_type) -> (segments, end, trailing, status)
 *
 *   text          the buffer, a str of Latin-1 decoded bytes (one character per byte)
 *   joined        the segment terminator plus the line break that follows it ("~", "~\n", "~\r\n")
 *   sep           the element separator (one character)
 *   span          the Span every segment of this call shares (positions are worked out lazily)
 *   segment_type  gateway.x12.segment.Segment (a tuple subclass: tag, elements, span, k)
 *
 *   segments      the Segments cut, k counting from 0
 *   end           where the text after the last segment cut starts
 *   trailing      whether any segment cut ends with an element separator
 *   status        STATUS_TAIL (0): the rest of the text is an incomplete segment (or nothing);
 *                 STATUS_IRREGULAR (2): the segment at ``end`` is not regular, or is an IEA;
 *                 the Python path reads it and goes on.
 *
 * Standard library only (the CPython C API); no state but two caches of immutable strings.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { STATUS_TAIL = 0, STATUS_IRREGULAR = 2 };

/* What a byte means while scanning a segment. */
enum { C_PLAIN = 0, C_SEP = 1, C_STOP = 2 };

#define TAG_BITS 9
#define TAG_SLOTS (1u << TAG_BITS)

/* Segment identifiers repeat endlessly: one interned string per tag, so a file's millions of
 * "NM1" are one object and comparisons with the literals in Python code are pointer checks. */
static PyObject *tag_cache[TAG_SLOTS];
static uint32_t tag_keys[TAG_SLOTS];
/* One-character elements ("Y", "1", "N") are CPython's own cached single-character strings. */
static PyObject *char_cache[128];
/* A segment's position in its span, shared like CPython's own small integers. */
#define POSITIONS 4096
static PyObject *position_cache[POSITIONS];

static PyObject *
ascii_string(const Py_UCS1 *s, Py_ssize_t n)
{
    if (n == 1) {
        PyObject *c = char_cache[s[0]];
        Py_INCREF(c);
        return c;
    }
    PyObject *r = PyUnicode_New(n, 127);
    if (r != NULL && n > 0) {
        memcpy(PyUnicode_1BYTE_DATA(r), s, (size_t)n);
    }
    return r;
}

static PyObject *
tag_string(const Py_UCS1 *s, Py_ssize_t n)
{
    if (n < 2 || n > 3) {
        return ascii_string(s, n);
    }
    uint32_t key = ((uint32_t)n << 24) | ((uint32_t)s[0] << 16) | ((uint32_t)s[1] << 8)
                   | (n == 3 ? (uint32_t)s[2] : 0u);
    uint32_t slot = (key * 2654435761u) >> (32 - TAG_BITS);
    PyObject *cached = tag_cache[slot];
    if (cached != NULL && tag_keys[slot] == key) {
        Py_INCREF(cached);
        return cached;
    }
    PyObject *tag = ascii_string(s, n);
    if (tag == NULL) {
        return NULL;
    }
    PyUnicode_InternInPlace(&tag);
    Py_INCREF(tag);
    Py_XSETREF(tag_cache[slot], tag);
    tag_keys[slot] = key;
    return tag;
}

/* One-byte text of a str, or NULL when it holds characters above U+00FF. */
static const Py_UCS1 *
latin1_data(PyObject *text)
{
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND) {
        return NULL;
    }
    return PyUnicode_1BYTE_DATA(text);
}

static PyObject *
build_segment(PyTypeObject *segment_type, const Py_UCS1 *p, Py_ssize_t start, Py_ssize_t end,
              const Py_ssize_t *cuts, Py_ssize_t ncut, PyObject *span, Py_ssize_t k)
{
    Py_ssize_t tag_end = ncut ? cuts[0] : end;
    PyObject *tag = tag_string(p + start, tag_end - start);
    if (tag == NULL) {
        return NULL;
    }
    PyObject *elements = PyList_New(ncut);
    if (elements == NULL) {
        Py_DECREF(tag);
        return NULL;
    }
    for (Py_ssize_t e = 0; e < ncut; e++) {
        Py_ssize_t from = cuts[e] + 1;
        Py_ssize_t to = e + 1 < ncut ? cuts[e + 1] : end;
        PyObject *value = ascii_string(p + from, to - from);
        if (value == NULL) {
            Py_DECREF(tag);
            Py_DECREF(elements);
            return NULL;
        }
        PyList_SET_ITEM(elements, e, value);
    }
    PyObject *position;
    if (k < POSITIONS) {
        position = position_cache[k];
        Py_INCREF(position);
    }
    else {
        position = PyLong_FromSsize_t(k);
    }
    if (position == NULL) {
        Py_DECREF(tag);
        Py_DECREF(elements);
        return NULL;
    }
    /* What tuple.__new__(Segment, ...) does, without building the argument tuple first. */
    PyObject *segment = segment_type->tp_alloc(segment_type, 4);
    if (segment == NULL) {
        Py_DECREF(tag);
        Py_DECREF(elements);
        Py_DECREF(position);
        return NULL;
    }
    PyObject_GC_UnTrack(elements);
    PyObject_GC_UnTrack(segment);
    Py_INCREF(span);
    PyTuple_SET_ITEM(segment, 0, tag);
    PyTuple_SET_ITEM(segment, 1, elements);
    PyTuple_SET_ITEM(segment, 2, span);
    PyTuple_SET_ITEM(segment, 3, position);
    return segment;
}

static PyObject *
split_regular(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_Format(PyExc_TypeError, "split_regular() takes 5 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *text = args[0];
    PyObject *joined = args[1];
    PyObject *sep = args[2];
    PyObject *span = args[3];
    PyObject *type_arg = args[4];
    if (!PyType_Check(type_arg)
        || !PyType_IsSubtype((PyTypeObject *)type_arg, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "split_regular(): segment_type must subclass tuple");
        return NULL;
    }
    PyTypeObject *segment_type = (PyTypeObject *)type_arg;

    if (!PyUnicode_Check(text) || !PyUnicode_Check(joined) || !PyUnicode_Check(sep)) {
        PyErr_SetString(PyExc_TypeError, "split_regular(): text, joined and sep must be str");
        return NULL;
    }
    const Py_UCS1 *p = latin1_data(text);
    const Py_UCS1 *j = latin1_data(joined);
    const Py_UCS1 *s = latin1_data(sep);
    Py_ssize_t n = p ? PyUnicode_GET_LENGTH(text) : 0;
    Py_ssize_t jn = j ? PyUnicode_GET_LENGTH(joined) : 0;
    if (p == NULL || j == NULL || s == NULL || jn < 1 || PyUnicode_GET_LENGTH(sep) != 1
        || s[0] >= 128 || j[0] >= 128 || s[0] == '\r' || s[0] == '\n' || s[0] == j[0]) {
        /* nothing this path knows how to read: all of it goes the careful way */
        PyObject *none = PyList_New(0);
        return none ? Py_BuildValue("(NnOi)", none, (Py_ssize_t)0, Py_False, STATUS_IRREGULAR)
                    : NULL;
    }
    Py_UCS1 term = j[0];
    Py_UCS1 sepc = s[0];

    unsigned char kind[256];
    memset(kind, C_PLAIN, 128);
    memset(kind + 128, C_STOP, 128); /* non-ASCII: re-decoded as UTF-8 by the careful path */
    kind['\r'] = C_STOP;
    kind['\n'] = C_STOP;
    kind[term] = C_STOP;
    kind[sepc] = C_SEP;

    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    Py_ssize_t small[64];
    Py_ssize_t *cuts = small;
    Py_ssize_t capacity = 64;
    Py_ssize_t pos = 0;
    Py_ssize_t k = 0;
    int trailing = 0;
    int status = STATUS_TAIL;

    while (pos < n) {
        Py_UCS1 first = p[pos];
        if (first == ' ' || first == '\t' || first == '\r' || first == '\n' || first == '\x0b'
            || first == '\x0c' || first == term || first >= 128) {
            status = STATUS_IRREGULAR; /* indented or blank line, empty segment, non-ASCII */
            break;
        }
        Py_ssize_t i = pos;
        Py_ssize_t ncut = 0;
        for (; i < n; i++) {
            unsigned char what = kind[p[i]];
            if (what == C_PLAIN) {
                continue;
            }
            if (what == C_STOP) {
                break;
            }
            if (ncut == capacity) {
                Py_ssize_t grown = capacity * 2;
                Py_ssize_t *more = PyMem_New(Py_ssize_t, (size_t)grown);
                if (more == NULL) {
                    if (cuts != small) {
                        PyMem_Free(cuts);
                    }
                    Py_DECREF(out);
                    return PyErr_NoMemory();
                }
                memcpy(more, cuts, (size_t)ncut * sizeof(Py_ssize_t));
                if (cuts != small) {
                    PyMem_Free(cuts);
                }
                cuts = more;
                capacity = grown;
            }
            cuts[ncut++] = i;
        }
        if (i == n) {
            break; /* an incomplete segment: wait for more text */
        }
        if (p[i] != term) {
            status = STATUS_IRREGULAR; /* a line break inside a segment, or non-ASCII */
            break;
        }
        if (i + jn > n) {
            /* the text ends inside the terminator and its line break: wait, unless what is
             * there already differs from it */
            if (memcmp(p + i, j, (size_t)(n - i)) != 0) {
                status = STATUS_IRREGULAR;
            }
            break;
        }
        if (jn > 1 && memcmp(p + i, j, (size_t)jn) != 0) {
            status = STATUS_IRREGULAR; /* this terminator lacks the usual line break */
            break;
        }
        if ((ncut ? cuts[0] : i) - pos == 3 && memcmp(p + pos, "IEA", 3) == 0) {
            /* the end of an interchange is the Python path's: it checks for a next ISA glued
             * on without a terminator, and looks for that ISA's delimiters afresh */
            status = STATUS_IRREGULAR;
            break;
        }
        PyObject *segment = build_segment(segment_type, p, pos, i, cuts, ncut, span, k);
        if (segment == NULL || PyList_Append(out, segment) < 0) {
            Py_XDECREF(segment);
            if (cuts != small) {
                PyMem_Free(cuts);
            }
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(segment);
        k++;
        if (p[i - 1] == sepc) {
            trailing = 1;
        }
        pos = i + jn;
    }
    if (cuts != small) {
        PyMem_Free(cuts);
    }
    return Py_BuildValue("(NnNi)", out, pos, PyBool_FromLong(trailing), status);
}

static PyMethodDef speedups_methods[] = {
    {"split_regular", (PyCFunction)(void (*)(void))split_regular, METH_FASTCALL,
     "Cut regular X12 text into segments; see the module's source for the contract."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "gateway.x12._speedups",
    "The X12 tokenizer's hot path in C (optional; gateway.x12.tokenizer is the reference).",
    -1,
    speedups_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    for (int c = 0; c < 128; c++) {
        char one = (char)c;
        char_cache[c] = PyUnicode_DecodeLatin1(&one, 1, NULL);
        if (char_cache[c] == NULL) {
            return NULL;
        }
    }
    for (Py_ssize_t k = 0; k < POSITIONS; k++) {
        position_cache[k] = PyLong_FromSsize_t(k);
        if (position_cache[k] == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&speedups_module);
}

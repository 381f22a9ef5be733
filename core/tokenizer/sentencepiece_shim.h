/* The C interface of gs_sentencepiece_shim, the module that links sentencepiece.
 *
 * Debian's libsentencepiece0 carries its own protobuf-lite, which clashes with LibTorch's
 * protobuf in one process, so gs_core never links sentencepiece: it dlopen()s this module
 * with RTLD_LOCAL | RTLD_DEEPBIND and calls these functions, which pass only plain C types.
 * Strings returned through `char** error` or `char** model` are malloc()ed; release them with
 * gs_sp_free_bytes. */
#ifndef GS_SENTENCEPIECE_SHIM_H
#define GS_SENTENCEPIECE_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GS_SP_SHIM_ABI_VERSION 2

typedef struct gs_sp_model gs_sp_model;

/* Called by the trainer for each training sentence. Returns 1 and sets *text / *size for a
 * sentence, 0 at the end, -1 to cancel training. */
typedef int (*gs_sp_next_sentence)(void* context, const char** text, size_t* size);

int gs_sp_abi_version(void);

/* Loads a serialized ModelProto (the bytes of a .model file); NULL and *error on failure. */
gs_sp_model* gs_sp_load(const char* data, size_t size, char** error);
void gs_sp_free(gs_sp_model* model);
void gs_sp_free_bytes(char* bytes);

int gs_sp_piece_count(const gs_sp_model* model);
/* Special ids as the model defines them (-1 when disabled): pad, eos, unk, bos. */
void gs_sp_special_ids(const gs_sp_model* model, int* pad, int* eos, int* unk, int* bos);
int gs_sp_piece_to_id(const gs_sp_model* model, const char* piece, size_t size);
/* Writes up to `capacity` bytes of the piece; returns its full length, -1 for a bad id. */
long gs_sp_id_to_piece(const gs_sp_model* model, int id, char* out, size_t capacity);

/* Encodes text into at most `capacity` ids and returns how many it has (call again with more
 * room when that is larger than `capacity`); -1 on error. Safe to call from many threads. */
long gs_sp_encode(const gs_sp_model* model, const char* text, size_t size, int* ids, size_t capacity);
/* gs_sp_encode that also writes each piece's bytes [begins[i], ends[i]) in `text`, as
 * sentencepiece aligns them through its normalisation (a piece's span includes the whitespace
 * its word-boundary mark stands for). */
long gs_sp_encode_spans(const gs_sp_model* model, const char* text, size_t size, int* ids, size_t* begins,
                        size_t* ends, size_t capacity);
/* Decodes ids into at most `capacity` bytes; returns the full length, -1 on error. */
long gs_sp_decode(const gs_sp_model* model, const int* ids, size_t count, char* out, size_t capacity);

/* Trains a model from the sentences `next` yields, with sentencepiece trainer options given as
 * `count` key/value pairs (e.g. "vocab_size" / "32000"). On success returns 0 and sets *model and
 * *model_size to the serialized model; otherwise returns 1 (failure) or 2 (cancelled) and sets
 * *error. */
int gs_sp_train(const char* const* keys, const char* const* values, size_t count, gs_sp_next_sentence next,
                void* context, char** model, size_t* model_size, char** error);

#ifdef __cplusplus
}
#endif

#endif

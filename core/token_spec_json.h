// Placeholder: its owner replaces this header.
#ifndef TOKENFS_CORE_TOKEN_SPEC_JSON_H_
#define TOKENFS_CORE_TOKEN_SPEC_JSON_H_
#endif  // TOKENFS_CORE_TOKEN_SPEC_JSON_H_

// Placeholder: its owner replaces this header.
#ifndef TOKENFS_CORE_TOKEN_SPEC_H_
#define TOKENFS_CORE_TOKEN_SPEC_H_
#endif  // TOKENFS_CORE_TOKEN_SPEC_H_

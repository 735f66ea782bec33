// Placeholder: its owner replaces this header.
#ifndef TOKENFS_CORE_QUERY_CLASS_H_
#define TOKENFS_CORE_QUERY_CLASS_H_
#endif  // TOKENFS_CORE_QUERY_CLASS_H_

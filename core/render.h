// Placeholder: its owner replaces this header.
#ifndef TOKENFS_CORE_RENDER_H_
#define TOKENFS_CORE_RENDER_H_
#endif  // TOKENFS_CORE_RENDER_H_

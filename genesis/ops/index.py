"""Indexing: __getitem__ (basic views, advanced, boolean masks, None/Ellipsis),
__setitem__ (index_put with autograd), gather/scatter, index_select/index_add,
masked_fill/masked_select/masked_scatter, take, nonzero, tril/triu."""

TENSOR_METHODS = {}

"""Area under the ROC curve (Mann-Whitney U, ties averaged) of SAE features as scores for a
metadata value: column-wise for every feature at once."""
from __future__ import annotations

import numpy as np


def average_ranks(a: np.ndarray) -> np.ndarray:
    """Column-wise ranks (1-based) with ties averaged; a: [N, F] (or [N])."""
    a = np.asarray(a, np.float64)
    one = a.ndim == 1
    if one:
        a = a[:, None]
    n, f = a.shape
    order = np.argsort(a, axis=0, kind="mergesort")
    ranks = np.empty_like(a)
    positions = np.arange(1, n + 1, dtype=np.float64)
    for j in range(f):
        col = a[order[:, j], j]
        tie_group = np.cumsum(np.r_[True, col[1:] != col[:-1]]) - 1
        mean_rank = np.bincount(tie_group, positions) / np.bincount(tie_group)
        ranks[order[:, j], j] = mean_rank[tie_group]
    return ranks[:, 0] if one else ranks


def auc_from_ranks(ranks: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """AUC of every column of `ranks` (from average_ranks) for the boolean labels pos; NaN
    when pos has no positive or no negative."""
    pos = np.asarray(pos, bool)
    n_pos = pos.sum()
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        return np.full(ranks.shape[1:] or (), np.nan)
    return (ranks[pos].sum(0) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def auc(scores, labels) -> float:
    """AUC of one score vector for boolean labels (NaN without both classes)."""
    return float(auc_from_ranks(average_ranks(np.asarray(scores, np.float64)), labels))


def auc_columns(scores: np.ndarray, labels) -> np.ndarray:
    """AUC of every column of scores [N, F] for boolean labels [N]."""
    return auc_from_ranks(average_ranks(scores), labels)

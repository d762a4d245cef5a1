"""Accuracy, per-class precision/recall/F1 and confusion matrices for the model card."""

from __future__ import annotations


def confusion(gold: list[str], pred: list[str], labels: list[str]) -> list[list[int]]:
    """matrix[i][j]: questions of class labels[i] predicted as labels[j]."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred):
        matrix[index[g]][index[p]] += 1
    return matrix


def per_class(gold: list[str], pred: list[str], labels: list[str]) -> dict[str, dict]:
    """{label: {precision, recall, f1, support}}; 0.0 where a ratio has no denominator."""
    result = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred))
        n_pred = sum(p == label for p in pred)
        n_gold = sum(g == label for g in gold)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[label] = {"precision": round(precision, 4), "recall": round(recall, 4),
                         "f1": round(f1, 4), "support": n_gold}
    return result


def accuracy(gold: list[str], pred: list[str]) -> float:
    return sum(g == p for g, p in zip(gold, pred)) / len(gold)

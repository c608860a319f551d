"""Built-in cells."""

from .builtins import BUILTINS, cgru, gru, gru_torch, lstm, minimal_rnn, rate, vanilla

__all__ = ["BUILTINS", "vanilla", "rate", "gru", "gru_torch", "cgru", "lstm", "minimal_rnn"]

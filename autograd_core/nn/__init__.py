"""ag.nn: modules, layers, activations, losses; ag.nn.functional, ag.nn.init, ag.nn.utils."""
from .module import Module, Parameter, Sequential, ModuleList, ModuleDict
from .linear import Linear, Bilinear
from .activation import (ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, ELU, Softplus, Softmax, LogSoftmax,
                         Softmin, LogSigmoid, Hardtanh, ReLU6)
from .dropout import Dropout, Dropout1d, Dropout2d
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .sparse import Embedding
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell
from .transformer import MultiheadAttention, TransformerEncoderLayer, TransformerEncoder
from .flatten import Flatten, Unflatten, Identity
from .loss import (MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss,
                   NLLLoss, KLDivLoss)
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .pooling import MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d
from . import functional, init, utils

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Bilinear",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "ELU", "Softplus", "Softmax", "LogSoftmax",
    "Softmin", "LogSigmoid", "Hardtanh", "ReLU6",
    "Dropout", "Dropout1d", "Dropout2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding",
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
    "Flatten", "Unflatten", "Identity",
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "NLLLoss", "KLDivLoss",
    "Conv1d", "Conv2d", "ConvTranspose2d",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
    "functional", "init", "utils",
]

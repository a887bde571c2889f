"""BERT: backbone, pretraining, fine-tuning and Hugging Face checkpoint import.

>>> from zoo.bert import BertBackbone, BertClassifier, BertPretrainer
>>> backbone = BertBackbone(100, num_layers=1, num_heads=2, hidden_dim=8,
...                         intermediate_dim=16)
>>> classifier = BertClassifier(backbone, num_classes=3)
"""

from zoo.bert.backbone import BertBackbone
from zoo.bert.checkpoint import load_hf_checkpoint
from zoo.bert.classifier import BertClassifier
from zoo.bert.pretrainer import BertPretrainer
from zoo.bert.pretraining_data import pretraining_dataset, read_documents
from zoo.bert.tokenizer import BertTokenizer

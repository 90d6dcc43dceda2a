"""ag.vision.transforms (torchvision.transforms' names) for PIL images, numpy arrays and tensors."""
from . import functional, v2
from .functional import InterpolationMode
from .transforms import (
                         CenterCrop,
                         Compose,
                         ConvertImageDtype,
                         Grayscale,
                         Lambda,
                         Normalize,
                         Pad,
                         PILToTensor,
                         RandomApply,
                         RandomChoice,
                         RandomCrop,
                         RandomGrayscale,
                         RandomHorizontalFlip,
                         RandomResizedCrop,
                         RandomRotation,
                         RandomVerticalFlip,
                         Resize,
                         ToPILImage,
                         ToTensor,
)

__all__ = ["CenterCrop", "Compose", "ConvertImageDtype", "Grayscale", "InterpolationMode", "Lambda", "Normalize",
           "PILToTensor", "Pad", "RandomApply", "RandomChoice", "RandomCrop", "RandomGrayscale",
           "RandomHorizontalFlip", "RandomResizedCrop", "RandomRotation", "RandomVerticalFlip", "Resize",
           "ToPILImage", "ToTensor", "functional", "v2"]

"""Transfer learning, in the style of the tutorial: torchvision's resnet18 (random weights here: none
can be downloaded), its body frozen, a new fc trained on a tiny FakeData set."""
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torchvision import datasets, models, transforms

torch.manual_seed(0)
data_transforms = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                                      transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
image_dataset = datasets.FakeData(size=16, image_size=(3, 32, 32), num_classes=2, transform=data_transforms)
dataloader = torch.utils.data.DataLoader(image_dataset, batch_size=8, shuffle=True)
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

model_conv = models.resnet18(weights=None)
for param in model_conv.parameters():
    param.requires_grad = False
num_ftrs = model_conv.fc.in_features
model_conv.fc = nn.Linear(num_ftrs, 2)
model_conv = model_conv.to(device)
criterion = nn.CrossEntropyLoss()
optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.05, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=7, gamma=0.1)

model_conv.train()
for epoch in range(5):
    running_loss = 0.0
    for inputs, labels in dataloader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer_conv.zero_grad()
        with torch.set_grad_enabled(True):
            outputs = model_conv(inputs)
            _, preds = torch.max(outputs, 1)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer_conv.step()
        running_loss += loss.item() * inputs.size(0)
    exp_lr_scheduler.step()
    print(f"epoch {epoch} loss: {running_loss / len(image_dataset):.4f}")
frozen = [name for name, p in model_conv.named_parameters() if not p.requires_grad]
print(f"{len(frozen)} frozen tensors; trainable: {[n for n, p in model_conv.named_parameters() if p.requires_grad]}")

#!/usr/bin/env python3
"""Makes the iResNet and ResNet test models and their torch references (run by hand; needs
python3-torch).

The FR models researchers use (ArcFace, MagFace, AdaFace, ElasticFace) are iResNets: blocks of
BN -> conv -> BN -> PReLU -> conv -> BN plus a shortcut, then BN -> dropout -> flatten -> FC ->
BN after the last stage. This builds one at reduced width (stages of 8, 16, 16, 16 channels, one
block each, 16 x 7 x 7 before a 784 x 512 FC), with random weights and BatchNorm statistics
(the pipeline is what is tested, not recognition), and exports it with torch.onnx.export at
opsets 11, 13, 14 and 17 as users do. torch shares equal initializers (the PReLU slopes still at
0.25) through Identity nodes, which amva folds before OpenCV loads the model.

A plain ResNet (post-activation blocks: conv -> BN -> ReLU -> conv -> BN, shortcut added, then
ReLU; the same head) is exported at opsets 11 and 17: its last non-linearity is the ReLU after
the last residual Add.

Writes into this folder:
  iresnet_tiny_opset{11,13,14,17}.onnx, resnet_tiny_opset{11,17}.onnx and a model card for
  each (card_<arch>_opset*.json);
  face.png: a 112 x 112 pre-aligned face (the default photo grace_hopper.jpg, resized);
  torch_gradcam_<arch>.npy: Grad-CAM of the projection target <e, r/|r|> at the last block's
  output, computed by torch autograd on face.png (what amva's gradcam must equal).

Usage: tests/models/make_models.py [SOURCE_PHOTO]
"""
import json
import os
import sys

import cv2
import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ARCHITECTURES = {"iresnet": (11, 13, 14, 17), "resnet": (11, 17)}


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.prelu = nn.PReLU(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return y + self.downsample(x)


class PostActivationBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + self.downsample(x))


class IResNet(nn.Module):
    def __init__(self, widths=(8, 16, 16, 16), embedding=512, block=Block):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.prelu = nn.PReLU(widths[0])
        blocks, cin = [], widths[0]
        for c in widths:
            blocks.append(block(cin, c, 2))
            cin = c
        self.layers = nn.Sequential(*blocks)
        self.bn2 = nn.BatchNorm2d(cin)
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(cin * 7 * 7, embedding)
        self.features = nn.BatchNorm1d(embedding)

    def forward(self, x):
        x = self.layers(self.prelu(self.bn1(self.conv1(x))))
        x = self.dropout(self.bn2(x)).flatten(1)
        return self.features(self.fc(x))


def torch_gradcam(model, face):
    """Grad-CAM by autograd: dt/dA at the last block's output A, t = <e, r/|r|>, r = e held fixed."""
    kept = {}
    hook = model.layers[-1].register_forward_hook(lambda mod, inp, out: kept.__setitem__("A", out))
    x = torch.from_numpy(((face[:, :, ::-1].astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1).copy())[None]
    e = model(x)
    hook.remove()
    activations = kept["A"]
    activations.retain_grad()
    r = e.detach()
    (e * r / r.norm()).sum().backward()
    weights = activations.grad.mean(dim=(2, 3), keepdim=True)
    return torch.relu((weights * activations).sum(1))[0].detach().numpy().astype(np.float32)


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../data/default/sources/grace_hopper.jpg")
    photo = cv2.imread(source)
    h, w = photo.shape[:2]
    side = min(h, w)
    face = cv2.resize(photo[(h - side) // 2:(h + side) // 2, (w - side) // 2:(w + side) // 2], (112, 112),
                      interpolation=cv2.INTER_AREA)
    cv2.imwrite(os.path.join(HERE, "face.png"), face)
    for arch, opsets in ARCHITECTURES.items():
        torch.manual_seed(0)
        model = IResNet() if arch == "iresnet" else IResNet(block=PostActivationBlock)
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.1, 0.1)
        model.eval()
        for opset in opsets:
            name = f"{arch}_tiny_opset{opset}.onnx"
            torch.onnx.export(model, torch.zeros(1, 3, 112, 112), os.path.join(HERE, name), opset_version=opset,
                              input_names=["input"], output_names=["embedding"],
                              dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}})
            card = {"name": f"{arch} (tiny, random weights), torch.onnx.export opset {opset}", "file": name,
                    "input": {"name": "input", "width": 112, "height": 112, "channel_order": "RGB",
                              "mean": [127.5, 127.5, 127.5], "std": [127.5, 127.5, 127.5]},
                    "embedding_output": "embedding"}
            with open(os.path.join(HERE, f"card_{arch}_opset{opset}.json"), "w") as f:
                json.dump(card, f, indent=1)
                f.write("\n")
        np.save(os.path.join(HERE, f"torch_gradcam_{arch}.npy"), torch_gradcam(model, face))
        print(arch, "opsets", opsets)


if __name__ == "__main__":
    main()

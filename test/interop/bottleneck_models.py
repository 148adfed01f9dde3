"""Bottleneck video ResNets in PyTorch (R3D-50/101/152, ir-CSN and ip-CSN), the independent
reference for vidnet's `block=bottleneck|ir-csn|ip-csn` specs.

Written as the CSN authors build them (Tran et al. ICCV 2019; facebookresearch/VMZ,
pt/vmz/models/csn.py and utils.py): torchvision's video `Bottleneck` with a conv builder for the
middle conv, a stem of conv 3x7x7 stride 1x2x2, BN, ReLU and max pool 1x3x3 stride 1x2x2, and a
1x1x1 projection shortcut with the block's stride. torchvision's VideoResNet fixes four stages of
64..512 channels and a 64-channel stem, so the container here is written out to allow tiny test
models; its state_dict names are torchvision's (and vidnet's): stem.0, stem.1, layerS.B.conv1.0,
conv2.0 (conv2.0.0 .. conv2.0.2 for ip-CSN), conv3.0, downsample.0, fc.

BN: eps 1e-3 for CSN (VMZ's _generic_resnet sets it on every BatchNorm3d), PyTorch's 1e-5 for
R3D. VMZ also sets momentum=0.9, a Caffe2 value that means the opposite in PyTorch; vidnet has
no momentum option, so PyTorch's 0.1 is kept (it moves running statistics only, in training).
Works with torch 1.13 / torchvision 0.14 and newer.
"""
import torch.nn as nn
from torchvision.models.video.resnet import Bottleneck, Conv3DSimple

# Our spec of each model, relative to models/.
SPECS = {
    "r3d_50": "r3d_50.vnet", "r3d_101": "r3d_101.vnet", "r3d_152": "r3d_152.vnet",
    "ir_csn_50": "csn/ir_csn_50.vnet", "ir_csn_101": "csn/ir_csn_101.vnet",
    "ir_csn_152": "csn/ir_csn_152.vnet",
    "ip_csn_50": "csn/ip_csn_50.vnet", "ip_csn_101": "csn/ip_csn_101.vnet",
    "ip_csn_152": "csn/ip_csn_152.vnet",
}
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
CSN_BN_EPS = 1e-3


class Conv3DDepthwise(nn.Conv3d):
    """ir-CSN's middle conv: 3x3x3, one group per channel."""

    def __init__(self, in_planes, out_planes, midplanes=None, stride=1, padding=1):
        assert in_planes == out_planes
        super().__init__(in_planes, out_planes, kernel_size=3, stride=stride, padding=padding,
                         groups=in_planes, bias=False)

    @staticmethod
    def get_downsample_stride(stride):
        return (stride, stride, stride)


class IPConv3DDepthwise(nn.Sequential):
    """ip-CSN's middle: 1x1x1 conv, BN (no ReLU, as VMZ), then the depthwise 3x3x3 conv."""

    def __init__(self, in_planes, out_planes, midplanes=None, stride=1, padding=1):
        assert in_planes == out_planes
        super().__init__(nn.Conv3d(in_planes, out_planes, kernel_size=1, bias=False),
                         nn.BatchNorm3d(out_planes),
                         Conv3DDepthwise(out_planes, out_planes, None, stride, padding))

    @staticmethod
    def get_downsample_stride(stride):
        return (stride, stride, stride)


BUILDERS = {"bottleneck": Conv3DSimple, "ir-csn": Conv3DDepthwise, "ip-csn": IPConv3DDepthwise}


class BottleneckResNet(nn.Module):
    """Stem, max pool, stages of bottleneck blocks (stride 2 from the second stage on), average
    pool, fc: torchvision's VideoResNet with the stage count and widths as parameters."""

    def __init__(self, builder, layers, widths, stem_width, num_classes, stem_pool=True):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(3, stem_width, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3),
                      bias=False),
            nn.BatchNorm3d(stem_width), nn.ReLU(inplace=True))
        # VMZ puts the pool inside the stem (stem.3); it holds no tensors, so the name is vidnet's.
        self.maxpool = (nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)) if stem_pool
                        else nn.Identity())
        inplanes = stem_width
        for i, (blocks, planes) in enumerate(zip(layers, widths)):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", self._make_layer(builder, inplanes, planes, blocks, stride))
            inplanes = planes * Bottleneck.expansion
        self.num_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(inplanes, num_classes)
        for m in self.modules():  # torchvision's VideoResNet initialisation
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    @staticmethod
    def _make_layer(builder, inplanes, planes, blocks, stride):
        outplanes = planes * Bottleneck.expansion
        downsample = None
        if stride != 1 or inplanes != outplanes:
            downsample = nn.Sequential(
                nn.Conv3d(inplanes, outplanes, kernel_size=1,
                          stride=builder.get_downsample_stride(stride), bias=False),
                nn.BatchNorm3d(outplanes))
        first = Bottleneck(inplanes, planes, builder, stride, downsample)
        return nn.Sequential(first, *(Bottleneck(outplanes, planes, builder)
                                      for _ in range(1, blocks)))

    def forward(self, x):
        x = self.maxpool(self.stem(x))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def bottleneck_resnet(block_kind, layers, widths=(64, 128, 256, 512), stem_width=64,
                      num_classes=400, bn_eps=1e-5, stem_pool=True):
    """BLOCK_KIND is the spec's block= value: bottleneck, ir-csn or ip-csn. STEM_POOL=False
    drops the stem's max pool (VMZ's use_pool1=False; a spec without the `pool` statement)."""
    model = BottleneckResNet(BUILDERS[block_kind], layers, widths, stem_width, num_classes,
                             stem_pool)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm3d):
            m.eps = bn_eps
    return model


def r3d_50(num_classes=400):
    return bottleneck_resnet("bottleneck", DEPTHS[50], num_classes=num_classes)


def r3d_101(num_classes=400):
    return bottleneck_resnet("bottleneck", DEPTHS[101], num_classes=num_classes)


def r3d_152(num_classes=400):
    return bottleneck_resnet("bottleneck", DEPTHS[152], num_classes=num_classes)


def ir_csn_50(num_classes=400):
    return bottleneck_resnet("ir-csn", DEPTHS[50], num_classes=num_classes, bn_eps=CSN_BN_EPS)


def ir_csn_101(num_classes=400):
    return bottleneck_resnet("ir-csn", DEPTHS[101], num_classes=num_classes, bn_eps=CSN_BN_EPS)


def ir_csn_152(num_classes=400):
    return bottleneck_resnet("ir-csn", DEPTHS[152], num_classes=num_classes, bn_eps=CSN_BN_EPS)


def ip_csn_50(num_classes=400):
    return bottleneck_resnet("ip-csn", DEPTHS[50], num_classes=num_classes, bn_eps=CSN_BN_EPS)


def ip_csn_101(num_classes=400):
    return bottleneck_resnet("ip-csn", DEPTHS[101], num_classes=num_classes, bn_eps=CSN_BN_EPS)


def ip_csn_152(num_classes=400):
    return bottleneck_resnet("ip-csn", DEPTHS[152], num_classes=num_classes, bn_eps=CSN_BN_EPS)

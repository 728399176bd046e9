import NNTrain
print(NNTrainVersion.string)

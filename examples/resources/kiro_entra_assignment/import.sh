# <service principal id>/<assignment id>
terraform import kiro_entra_assignment.developers 00000000-0000-0000-0000-000000000000/Ax5cSc8jtEyKSFKl0pzNz-sb0abdQHRGq7cS9jJMbW4
